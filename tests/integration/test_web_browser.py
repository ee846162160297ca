"""The web playground in a real browser: Debian's headless Chromium (/usr/bin/chromium) driven by
Playwright, against the demo server as `stvs demo` starts it (dispatcher and scheduler on), on a
temporary SQLite file, its clock the tests' fake one under the demo's jumps. It tests the web channel,
not the database: it runs once, on SQLite. No request may leave 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bots.demo import seed_demo
from bots.settings import Settings
from bots.web.server import DemoServer, start_demo
from core.policy import Policy
from storage.database import Database
from tests.fakes.clock import FakeClock

CHROMIUM = Path("/usr/bin/chromium")
SMARTPHONE_CLASS = "智能手机使用助老课堂"

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    # CI installs the browser and sets STVS_REQUIRE_BROWSER: there, a missing browser fails the run.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("STVS_REQUIRE_BROWSER"),
        reason="apt-get install chromium (.ci/run does)",
    ),
    pytest.mark.skipif(
        "sqlite" not in os.environ.get("STVS_TEST_DATABASES", "sqlite"), reason="runs once, on SQLite"
    ),
]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[DemoServer]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'stvs.sqlite3'}")
    await database.create_schema()
    server = await start_demo(Settings(data_dir=tmp_path), database, port=0, base_clock=FakeClock())
    async with database.uow() as uow:
        await seed_demo(uow, server.clock, Policy())
        await uow.commit()
    yield server
    await server.stop()


async def test_a_volunteer_signs_up_checks_in_and_answers_the_survey_in_the_browser(
    demo: DemoServer, tmp_path: Path
) -> None:
    expect = playwright_api.expect
    requested: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})

        async def guard(route) -> None:  # type: ignore[no-untyped-def]
            requested.append(route.request.url)
            if urlparse(route.request.url).hostname == "127.0.0.1":
                await route.continue_()
            else:
                await route.abort()

        await context.route("**/*", guard)
        page = await context.new_page()
        await page.goto(demo.url)
        await expect(page.locator("#demo-banner")).to_contain_text("演示模式")

        volunteer = page.locator("#pane-volunteer")
        organizer = page.locator("#pane-organizer")

        def button(pane, label: str):  # type: ignore[no-untyped-def]
            return pane.locator("button", has_text=label).last

        # Buttons render as buttons; the volunteer finds the soonest activity and signs up.
        await button(volunteer, "找活动").click()
        await button(volunteer, "近期全部").click()
        await button(volunteer, SMARTPHONE_CLASS).click()
        await button(volunteer, "我要报名").click()
        await expect(volunteer.locator(".msg.bot", has_text="报名成功")).to_have_count(1)

        # The organizer sees the sign-up.
        await button(organizer, "组织者").click()
        await button(organizer, "本组织活动").click()
        await button(organizer, SMARTPHONE_CLASS).click()
        await button(organizer, "报名名单").click()
        await expect(organizer.locator(".msg.bot", has_text="王晓明 138****0001")).to_have_count(1)

        # The clock moves to the start; the volunteer checks in with the venue's position.
        await page.locator(".jumps button[data-to=start]").click()
        await expect(page.locator("#clock-next")).to_contain_text(SMARTPHONE_CLASS)
        await expect(page.locator("#clock-now")).to_contain_text("14:00")
        await button(volunteer, "签到").click()
        await volunteer.locator("button.place", has_text="活动地点").last.click()
        await expect(volunteer.locator(".msg.bot", has_text="签到成功")).to_have_count(1)

        # After the end the survey arrives as a notice, with its button; it is answered.
        await page.locator(".jumps button[data-to=end]").click()
        await expect(volunteer.locator(".msg.notice", has_text="满意度调查")).to_have_count(1)
        await expect(organizer.locator(".msg.notice", has_text="📋 满意度调查")).to_have_count(1)
        await button(volunteer, "填写调查").click()
        for _ in range(3):
            await button(volunteer, "5 非常满意").click()
        await volunteer.locator("form.say input").fill("讲解很清楚")
        await volunteer.locator("form.say button").click()
        await expect(volunteer.locator(".msg.bot", has_text="感谢您的评价")).to_have_count(1)

        # The organizer's survey link opens the page with a newcomer arriving as from the code (3-8.1.2.1).
        await button(organizer, "📋 满意度调查").click()
        shown = organizer.locator(".msg.bot", has_text="/playground/?start=survey-").last
        await expect(shown).to_have_count(1)
        link = next(word for word in (await shown.inner_text()).split() if "?start=survey-" in word)
        scanned = await context.new_page()
        await scanned.goto(link[link.index("http") :])
        newcomer = scanned.locator("#pane-newcomer")
        await expect(newcomer.locator(".msg.bot", has_text=SMARTPHONE_CLASS).first).to_be_visible()

        await page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
        await browser.close()

    assert (tmp_path / "playground.png").stat().st_size > 0
    assert requested, "the guard saw no request"
    assert {urlparse(url).hostname for url in requested} == {"127.0.0.1"}, requested
