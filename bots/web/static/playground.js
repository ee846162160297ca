// The playground of `stvs demo`: one chat pane per demo person over the same conversation as
// WeChat and Telegram. Every request goes to this server (same origin); nothing else is loaded.
"use strict";
(function () {
  const texts = JSON.parse(document.getElementById("texts").textContent);
  const panes = {};

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({ error: texts.failed }));
    if (!response.ok) throw new Error(data.error || texts.failed);
    return data;
  }

  function scroll(log) { log.scrollTop = log.scrollHeight; }

  function said(pane, text, cls) {
    const bubble = el("div", { class: "msg " + cls }, text);
    panes[pane].log.appendChild(bubble);
    scroll(panes[pane].log);
    return bubble;
  }

  function button(label, onClick, cls) {
    const node = el("button", { type: "button", class: cls || "" }, label);
    node.addEventListener("click", onClick);
    return node;
  }

  function coordinatesForm(pane) {
    const row = el("div", { class: "row" });
    const input = el("input", { type: "text", placeholder: texts["location.typed_placeholder"], class: "typed-location" });
    row.appendChild(input);
    row.appendChild(button(texts["location.typed"], () => {
      const parts = input.value.replace(/，/g, ",").split(/[\s,]+/).filter(Boolean).map(Number);
      if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n))) {
        said(pane, texts["location.bad"], "error");
        return;
      }
      send(pane, { kind: "location", latitude: parts[0], longitude: parts[1] }, "📍 " + parts.join(", "));
    }));
    return row;
  }

  function show(pane, reply, notice) {
    const bubble = said(pane, reply.text || reply.caption || "", notice ? "notice" : "bot");
    if (notice) bubble.setAttribute("data-notice", texts.notice);
    if (reply.kind === "say" && reply.choices.length) {
      const grid = el("div", { class: "choices" });
      grid.style.gridTemplateColumns = "repeat(" + Math.max(1, reply.columns) + ", 1fr)";
      reply.choices.forEach((c) => grid.appendChild(
        button(c.label, () => send(pane, { kind: "button", payload: c.payload }, c.label), "choice")));
      bubble.appendChild(grid);
    } else if (reply.kind === "location") {
      const list = el("div", { class: "places" });
      reply.places.forEach((p) => list.appendChild(button("📍 " + p.label, () =>
        send(pane, { kind: "location", latitude: p.latitude, longitude: p.longitude }, "📍 " + p.label), "place")));
      list.appendChild(coordinatesForm(pane));
      bubble.appendChild(list);
    } else if (reply.kind === "contact") {
      const row = el("div", { class: "row" });
      const input = el("input", { type: "tel", placeholder: texts["contact.placeholder"] });
      row.appendChild(input);
      row.appendChild(button(reply.button, () => {
        if (input.value.trim()) send(pane, { kind: "contact", phone: input.value.trim() }, "📱 " + input.value.trim());
      }));
      bubble.appendChild(row);
    } else if (reply.kind === "image" && reply.url) {
      const link = el("a", { href: reply.url, target: "_blank", class: "file" });
      link.appendChild(el("img", { src: reply.url, alt: reply.caption || "" }));
      bubble.appendChild(link);
    } else if (reply.kind === "document" && reply.url) {
      bubble.appendChild(el("br"));
      bubble.appendChild(el("a", { href: reply.url, target: "_blank", class: "file" }, texts.open_file + " " + reply.filename));
    } else if (reply.kind === "link") {
      bubble.appendChild(el("br"));
      bubble.appendChild(el("a", { href: reply.url, target: "_blank", rel: "noopener noreferrer" }, reply.url));
    }
    scroll(panes[pane].log);
  }

  async function send(pane, input, echo) {
    if (echo) said(pane, echo, "me");
    try {
      const data = await call("POST", "/playground/api/turn", { pane: pane, input: input });
      data.replies.forEach((r) => show(pane, r, false));
    } catch (error) {
      said(pane, error.message, "error");
    }
  }

  function buildPane(pane) {
    const section = el("section", { class: "pane", id: "pane-" + pane });
    section.appendChild(el("h2", {}, texts.panes[pane]));
    section.appendChild(el("p", { class: "hint" }, texts.hints[pane]));
    const log = el("div", { class: "log", "aria-live": "polite" });
    section.appendChild(log);
    const form = el("form", { class: "say" });
    const input = el("input", { type: "text", placeholder: texts.placeholder, autocomplete: "off" });
    form.appendChild(input);
    form.appendChild(el("button", { type: "submit" }, texts.send));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send(pane, { kind: "text", text: text }, text);
    });
    section.appendChild(form);
    document.getElementById("panes").appendChild(section);
    panes[pane] = { log: log };
  }

  function showClock(state) {
    document.getElementById("clock-now").textContent = state.now;
    document.getElementById("clock-next").textContent = state.next;
  }

  async function jump(to) {
    const said = document.getElementById("clock-said");
    try {
      const state = await call("POST", "/playground/api/clock", { to: to });
      showClock(state);
      said.textContent = texts["clock.sent"].replace("{count}", state.sent);
      await poll();
    } catch (error) {
      said.textContent = error.message;
    }
  }

  async function poll() {
    try {
      const data = await call("GET", "/playground/api/poll");
      Object.entries(data.notices).forEach(([pane, replies]) => {
        if (panes[pane]) replies.forEach((r) => show(pane, r, true));
      });
    } catch (error) { /* the server is stopping; the next poll tries again */ }
  }

  document.getElementById("clock-title").textContent = texts["clock.title"];
  document.querySelectorAll(".jumps button").forEach((b) => {
    b.textContent = texts["clock." + b.dataset.to];
    b.addEventListener("click", () => jump(b.dataset.to));
  });
  Object.keys(texts.panes).forEach(buildPane);
  call("GET", "/playground/api/state").then(showClock, () => {});
  // ?start=act-12: the newcomer arrives as from a scanned QR code or a shared link (the demo's links).
  const scanned = new URLSearchParams(window.location.search).get("start");
  const arrival = scanned ? { kind: "start", args: scanned } : { kind: "start" };
  Object.keys(texts.panes).forEach((pane) =>
    send(pane, pane === "newcomer" ? arrival : { kind: "text", text: "menu" }, null));
  setInterval(poll, 1500);
})();
