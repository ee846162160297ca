"""Creating an activity from a filled-in template, the alternative to the step-by-step form (3-6.1.5).
The organizer gets every question of that form as one ``name：example`` line, sends the lines back
filled in, and each answer is read by the form's own step: typed text as if typed there, a choice by
the label or code of the button it names. Every problem comes back in one reply and nothing is saved;
a template without problems leads to the form's own summary and its publish / draft / cancel step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.chat import activity_form
from core.chat.forms import SUMMARY, Data, Step, plain, refuse_not_staff, written
from core.chat.messages import Button, Choice, Input, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import ActivityTemplate
from core.domain.codes import ServiceContent, ServiceContentGroup
from core.domain.organization import Organization
from core.errors import DomainError
from core.services.users import LANGUAGES

router = Router()

ACTIVITY_TEMPLATE = "activity_template"
_WAITING = "filled_in"

# The template answers the 3-5.2 group through the kind of service, which names it.
_SHOWN_AS = {"group": "service_content"}
# A step read only once the step it builds on was read without a problem.
_AFTER = {"service_content": "group", "ends_at": "starts_at", "base": "org"}
# What a line left out or left empty answers, for the questions one may skip.
_DEFAULTS: dict[str, Input] = {
    "base": Button("f.other"),  # 5-4: not at a registered base; the place is given
    "required_training": Text("无"),
    "field_work": Button("f.no"),  # 4-5.1.4 b: not field work unless said
    "training_kind": Button(f"f.{activity_form.NOT_TRAINING}"),  # 2-7.4: a service activity unless said
}
# Read when written, but no line of the template: the intro says how to add it.
_UNLISTED = frozenset({"training_kind"})
# Short lists written out next to the field's name.
_INLINE_VALUES = ("mode", "risk_level", "field_work")
_NOTED = frozenset(
    {
        "org",
        "service_content",
        "mode",
        "base",
        "place_name",
        "lat",
        "online_url",
        "capacity",
        "required_training",
        "risk_level",
        "risks",
        "field_work",
        "emergency_plan",
    }
)
_EXAMPLE_KIND = ServiceContent.POPULAR_LECTURE
_EXAMPLE_LABELS = {
    "service_content": f"code.service_content.{_EXAMPLE_KIND.value}",
    "mode": "code.mode.offline",
    "risk_level": "code.risk.low",
    "field_work": "chat.button.no",
}
# "名称：内容" or "name: value"; the name ends at the first colon, full-width or not.
_LINE = re.compile(r"^\s*[-*•·]?\s*([^:：]+?)\s*[:：]\s*(.*?)\s*$")
_NOTE = re.compile(r"[（(]")


@dataclass(frozen=True)
class Problem:
    field: str  # the field's name, or where in the message
    reason: str
    expected: str


def _fields() -> tuple[Step, ...]:
    return tuple(s for s in activity_form.STEPS if s.name not in _SHOWN_AS)


# ---- the template -------------------------------------------------------------------------------


@router.command(button=ActivityTemplate)
async def send_template(turn: Turn, _: str = "") -> None:
    orgs = await activity_form.manageable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    data = activity_form.org_answers(orgs[0]) if len(orgs) == 1 else {}
    bases = await _base_names(turn, data, orgs)
    lines = [turn.t("chat.org.tpl.intro"), turn.t("chat.org.tpl.kinds")]
    for group in ServiceContentGroup:
        kinds = [c for c in ServiceContent if c.group is group]
        lines.append(
            turn.t(
                "chat.org.tpl.kind_group",
                group=turn.t(f"code.service_group.{group.value}"),
                kinds=turn.join(f"{c.value} {turn.t(f'code.service_content.{c.value}')}" for c in kinds),
            )
        )
    if "org" not in data:
        lines.append(_values_line(turn, "org", [o.name for o in orgs]))
    if bases:
        lines.append(_values_line(turn, "base", bases))
    lines.append(await _training_note(turn, data))
    turn.say_text("\n".join(lines))
    template = []
    for step in _fields():
        if (
            not activity_form.FORM.unanswered(data, step.name)
            or (step.name == "base" and not bases)
            or step.name in _UNLISTED
        ):
            continue
        example = orgs[0].name if step.name == "org" else _example(turn, step.name, data)
        template.append(await _template_line(turn, step, data, example))
    turn.say_text("\n".join(template))
    turn.state.start(ACTIVITY_TEMPLATE, _WAITING, **data)


async def _training_note(turn: Turn, data: Data) -> str:
    """2-7.4: a training is published from the template by adding the line "是否为培训：岗位培训"."""
    step = activity_form.FORM.by_name["training_kind"]
    assert step.options is not None
    labels = [c.label for c in await step.options(turn, data)]
    return turn.t("trainings.tpl.note", field=_name(turn, step.name), values="/".join(labels[1:]))


def _values_line(turn: Turn, name: str, values: list[str]) -> str:
    return turn.t("chat.org.tpl.values", field=_name(turn, name), values=turn.join(values))


async def _base_names(turn: Turn, data: Data, orgs: list[Organization]) -> list[str]:
    """5-4: the bases an activity of these orgs may be held at, as the form's base question offers them."""
    step = activity_form.FORM.by_name["base"]
    assert step.options is not None
    names: dict[str, str] = {}
    for org in [data] if "org" in data else [activity_form.org_answers(o) for o in orgs]:
        for choice in await step.options(turn, org):
            if choice.payload != "f.other":
                names.setdefault(choice.payload, choice.label)
    return list(names.values())


async def _template_line(turn: Turn, step: Step, data: Data, example: str) -> str:
    name = _name(turn, step.name)
    if step.name not in _NOTED:
        return turn.t("chat.org.tpl.line", field=name, example=example)
    values = ""
    if step.name in _INLINE_VALUES and step.options is not None:
        values = "/".join(c.label for c in await step.options(turn, data))
    note = turn.t(f"chat.org.tpl.note.{step.name}", values=values)
    return turn.t("chat.org.tpl.line_noted", field=name, note=note, example=example)


def _name(turn: Turn, step_name: str) -> str:
    return turn.t(f"chat.org.tpl.field.{_SHOWN_AS.get(step_name, step_name)}")


def _example(turn: Turn, name: str, data: Data) -> str:
    if name in ("starts_at", "ends_at"):
        zone = ZoneInfo(data.get("tz") or turn.policy.default_timezone)
        day = (turn.clock.now().astimezone(zone) + timedelta(days=7)).date()
        return f"{day:%Y-%m-%d} " + ("09:00" if name == "starts_at" else "11:30")
    if name == "base":
        return ""
    if name in _EXAMPLE_LABELS:
        return turn.t(_EXAMPLE_LABELS[name])
    return turn.t(f"chat.org.tpl.example.{name}")


# ---- the filled-in template ---------------------------------------------------------------------


@router.flow(ACTIVITY_TEMPLATE)
async def template_step(turn: Turn, given: Input) -> None:
    """Waits for the filled-in template; a message with problems is answered and waited for again."""
    if not isinstance(given, Text):
        turn.say("chat.org.tpl.send_text")
        return
    data = dict(turn.state.data)
    values, problems = _parse(turn, given.text, data)
    problems += await _read(turn, values, data)
    if problems:
        lines = [turn.t("chat.org.tpl.problems", count=len(problems))]
        lines += [
            turn.t("chat.org.tpl.problem", field=p.field, reason=p.reason, expected=p.expected)
            if p.expected
            else turn.t("chat.org.tpl.problem_plain", field=p.field, reason=p.reason)
            for p in problems
        ]
        lines.append(turn.t("chat.org.tpl.resend"))
        turn.say_text("\n".join(lines))
        return
    turn.state.start(activity_form.NEW_ACTIVITY, SUMMARY, **data)
    activity_form.show_summary(turn, data)


def _parse(turn: Turn, text: str, data: Data) -> tuple[dict[str, str], list[Problem]]:
    """The value of each field named (a line without a colon goes on the value above it)."""
    names = _known_names(turn)
    values: dict[str, str] = {}
    problems: list[Problem] = []
    current: str | None = None  # the field the lines belong to; "" after a line that names none
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            if current:
                values[current] += "\n" + line.strip()
            elif current is None:
                problems.append(_line_problem(turn, number))
            continue
        written_name = _NOTE.split(match[1], maxsplit=1)[0].strip()
        name = names.get(plain(written_name))
        if name is None:
            problems.append(
                Problem(
                    turn.t("chat.org.tpl.quoted", text=written_name or match[1]),
                    turn.t("chat.org.tpl.unknown"),
                    turn.t("chat.org.tpl.field_names", names=_field_names(turn, data)),
                )
            )
            current = ""
        elif name in values:
            problems.append(Problem(_name(turn, name), turn.t("chat.org.tpl.duplicate"), _line_hint(turn)))
            current = ""
        else:
            values[name] = match[2]
            current = name
    return {k: v.strip() for k, v in values.items()}, problems


def _field_names(turn: Turn, data: Data) -> str:
    return turn.join(_name(turn, s.name) for s in _fields() if activity_form.FORM.unanswered(data, s.name))


def _known_names(turn: Turn) -> dict[str, str]:
    """Field names in every language of the bot, whatever the organizer's own."""
    names = {}
    for language in LANGUAGES:
        t = turn.translators(language)
        for step in _fields():
            names[plain(t(f"chat.org.tpl.field.{step.name}"))] = step.name
    return names


def _line_problem(turn: Turn, number: int) -> Problem:
    return Problem(
        turn.t("chat.org.tpl.line_number", n=number), turn.t("chat.org.tpl.no_colon"), _line_hint(turn)
    )


def _line_hint(turn: Turn) -> str:
    example = turn.t("chat.org.tpl.line", field=_name(turn, "title"), example=_example(turn, "title", {}))
    return turn.t("chat.org.tpl.expected_example", example=example)


async def _read(turn: Turn, values: dict[str, str], data: Data) -> list[Problem]:
    """Each answer read by its step of the step-by-step form, into data; the problems found.
    A question the other answers make unnecessary is not asked, as in the form. When its condition
    looks at an answer that has a problem, the question is checked if answered, but its absence is
    not reported: whether it is needed waits for that answer to be corrected."""
    values = dict(values)
    problems: list[Problem] = []
    failed: set[str] = set()
    for step in activity_form.STEPS:
        name = step.name
        if not activity_form.FORM.unanswered(data, name):
            continue
        if name == "group" and (kind := values.get("service_content")):
            # 3-5.2: the kind names its group; the group's step and the kind's step then read both.
            picked = written(_all_kinds(turn), kind)
            if picked is None:
                problems.append(await _not_an_option(turn, "service_content", kind, data))
                failed.add(name)
                continue
            values["service_content"] = picked.payload.removeprefix("f.")
            values["group"] = ServiceContent(values["service_content"]).group.value
        if name in failed or _AFTER.get(name) in failed:
            failed.add(name)
            continue
        value = values.get(name, "")
        needed, certain = _needed(step, data, failed)
        given: Input | None
        if not value and needed and name in _DEFAULTS:
            given = _DEFAULTS[name]
        elif not value:
            if needed and certain:
                problems.append(
                    Problem(
                        _name(turn, name), turn.t("chat.org.tpl.missing"), await _expected(turn, step, data)
                    )
                )
            if needed:
                failed.add(name)
            continue
        elif not needed and certain:
            continue
        else:
            given = Text(value) if step.options is None else written(await step.options(turn, data), value)
        if given is None:
            problems.append(await _not_an_option(turn, name, value, data))
            failed.add(name)
            continue
        try:
            data.update(await step.take(turn, given, data))
        except DomainError as error:
            reason = turn.t(error.key, **error.params)
            expected = await _expected(turn, step, data)
            if step.options is None and _example(turn, name, data) in reason:  # said already
                expected = ""
            problems.append(Problem(_name(turn, name), reason, expected))
            failed.add(name)
    return problems


def _needed(step: Step, data: Data, failed: set[str]) -> tuple[bool, bool]:
    """Whether the form asks this question, and whether that is certain: its condition looked at no
    answer that has a problem."""
    seen = _Seen(data)
    needed = step.needed(seen)
    return needed, not (seen.read & failed)


class _Seen(dict[str, Any]):
    """The answers, noting which of them a question's condition reads."""

    def __init__(self, data: Data) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def _all_kinds(turn: Turn) -> list[Choice]:
    """3-5.2: the twenty kinds of service, named by label or code (the group follows from the kind)."""
    return [Choice(turn.t(f"code.service_content.{c.value}"), f"f.{c.value}") for c in ServiceContent]


async def _not_an_option(turn: Turn, name: str, value: str, data: Data) -> Problem:
    step = activity_form.FORM.by_name[name]
    reason = turn.t("chat.org.tpl.not_an_option", value=value)
    return Problem(_name(turn, name), reason, await _expected(turn, step, data))


async def _expected(turn: Turn, step: Step, data: Data) -> str:
    """The expected answer: the values to choose from, or an example in the right format."""
    name = _SHOWN_AS.get(step.name, step.name)
    if name == "service_content":
        label = turn.t(f"code.service_content.{_EXAMPLE_KIND.value}")
        return turn.t("chat.org.tpl.expected_kind", example=label, code=_EXAMPLE_KIND.value)
    if step.options is not None:
        labels = [c.label for c in await step.options(turn, data)]
        return turn.t("chat.org.tpl.expected_values", values=turn.join(labels))
    return turn.t("chat.org.tpl.expected_example", example=_example(turn, name, data))
