"""The web playground of `stvs demo` through its real HTTP endpoints: a turn per JSON request, notices
pushed by the outbox dispatcher and picked up by the poll, the demo clock's jumps. On both databases;
the clock under the demo's jumps is the tests' fake one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.app import build_app
from bots.bootstrap import bootstrap
from bots.demo import HISTORY, seed_demo
from bots.links import DeepLinks, PlaygroundLinks
from bots.settings import Settings
from bots.web.clock import DemoClock
from bots.web.playground import STATIC, add_playground
from core.domain.codes import Channel
from core.policy import Policy
from storage.database import Database
from tests.fakes.clock import FakeClock

SMARTPHONE_CLASS = "智能手机使用助老课堂"  # the demo's soonest activity, of the organizer's brigade


@pytest.fixture
async def playground(db: Database, clock: FakeClock, tmp_path) -> AsyncIterator[TestClient]:
    services = bootstrap(Settings(data_dir=tmp_path), clock=DemoClock(clock), database=db)
    app = build_app(services, run_scheduler=False, playground=True)
    async with db.uow() as uow:
        await seed_demo(uow, services.clock, Policy())
        await uow.commit()
    async with TestClient(TestServer(app)) as client:
        assert isinstance(services.conversation.links, DeepLinks)
        services.conversation.links.web = PlaygroundLinks(str(client.make_url("/")))  # as start_demo does
        yield client


async def turn(client: TestClient, pane: str, **given: Any) -> list[dict[str, Any]]:
    response = await client.post("/playground/api/turn", json={"pane": pane, "input": given})
    assert response.status == 200, await response.text()
    return (await response.json())["replies"]


def payload_of(replies: list[dict[str, Any]], label_part: str) -> str:
    for reply in replies:
        for choice in reply.get("choices", []):
            if label_part in choice["label"]:
                return choice["payload"]
    raise AssertionError(f"no button {label_part!r} in {replies!r}")


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


async def jump(client: TestClient, to: str) -> dict[str, Any]:
    response = await client.post("/playground/api/clock", json={"to": to})
    assert response.status == 200, await response.text()
    return await response.json()


async def poll(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    response = await client.get("/playground/api/poll")
    assert response.status == 200
    return (await response.json())["notices"]


async def test_volunteer_signs_up_checks_in_at_the_venue_and_answers_the_survey(playground) -> None:
    menu = await turn(playground, "volunteer", kind="text", text="菜单")
    assert [c["label"] for c in menu[-1]["choices"]][:2] == ["找活动", "我的活动"]  # buttons, not numbers
    listing = await turn(playground, "volunteer", kind="button", payload="find.l:all:0")
    card = await turn(playground, "volunteer", kind="button", payload=payload_of(listing, SMARTPHONE_CLASS))
    signed = await turn(playground, "volunteer", kind="button", payload=payload_of(card, "报名"))
    assert texts(signed).startswith(f"报名成功！“{SMARTPHONE_CLASS}”")

    # The organizer (staff of the brigade) sees the sign-up in the activity's list.
    await turn(playground, "organizer", kind="button", payload="org")
    activities = await turn(playground, "organizer", kind="button", payload="oa.list:0")
    staff_card = await turn(
        playground, "organizer", kind="button", payload=payload_of(activities, SMARTPHONE_CLASS)
    )
    roster = await turn(playground, "organizer", kind="button", payload=payload_of(staff_card, "报名名单"))
    assert "王晓明 138****0001 ✔ 已确认参加" in texts(roster)

    # Check-in opens with the activity: the location question offers the venue and a point 2 km off.
    state = await jump(playground, "start")
    assert f"“{SMARTPHONE_CLASS}”" in state["next"] and state["now"].endswith("14:00")
    asked = await turn(playground, "volunteer", kind="button", payload="ci")
    question = next(r for r in asked if r["kind"] == "location")
    venue, away = question["places"]
    assert "宁海路街道社区服务中心" in venue["label"]
    too_far = await turn(playground, "volunteer", kind="location", **_point(away))
    assert "您距活动地点约 2.0 公里，需在 500 米内" in texts(too_far)
    await turn(playground, "volunteer", kind="button", payload=payload_of(too_far, "重新发送"))
    done = await turn(playground, "volunteer", kind="location", **_point(venue))
    assert texts(done).startswith(f"✅ 签到成功：“{SMARTPHONE_CLASS}”")

    # After the end the jobs run at once: the volunteer's survey and the staff's survey invitation arrive.
    assert (await jump(playground, "end"))["sent"] >= 2
    notices = await poll(playground)
    survey = payload_of(notices["volunteer"], "填写调查")
    assert "📋 满意度调查" in [c["label"] for n in notices["organizer"] for c in n["choices"]]
    assert await poll(playground) == {}  # taken once
    question = await turn(playground, "volunteer", kind="button", payload=survey)
    for _ in range(3):
        question = await turn(playground, "volunteer", kind="button", payload=payload_of(question, "5 "))
    thanks = await turn(playground, "volunteer", kind="text", text="讲解很清楚")
    assert "感谢" in texts(thanks)


async def test_qr_codes_and_survey_links_open_the_playground_as_a_scan_would(playground) -> None:
    """2-6.1 a, 3-8.1.2.1: in the demo, where no chat platform is reached, the codes staff print and
    the survey link open the playground's page with the newcomer arriving by that code."""
    await turn(playground, "organizer", kind="button", payload="org")
    activities = await turn(playground, "organizer", kind="button", payload="oa.list:0")
    card_payload = payload_of(activities, SMARTPHONE_CLASS)
    activity_id = int(card_payload.rsplit(":", 1)[1])
    coded = await turn(playground, "organizer", kind="text", text=f"/qr act-{activity_id}")
    image = next(r for r in coded if r["kind"] == "image")
    link = re.search(r"http://\S+", image["caption"])
    assert link is not None and link[0].endswith(f"/playground/?start=act-{activity_id}")
    assert (await playground.get(image["url"])).headers["Content-Type"] == "image/png"
    assert link[0].startswith(str(playground.make_url("/")))  # this server's own address
    page = await playground.get(link[0].removeprefix(str(playground.make_url("/")).rstrip("/")))
    assert page.status == 200 and "playground.js" in await page.text()
    arrived = await turn(playground, "newcomer", kind="start", args=f"act-{activity_id}")
    assert SMARTPHONE_CLASS in texts(arrived) and payload_of(arrived, "报名")

    staff_card = await turn(playground, "organizer", kind="button", payload=card_payload)
    links = await turn(playground, "organizer", kind="button", payload=payload_of(staff_card, "满意度调查"))
    assert f"/playground/?start=survey-{activity_id}" in texts(links)
    assert any(r["kind"] == "image" for r in links)


def _point(place: dict[str, Any]) -> dict[str, float]:
    return {"latitude": place["latitude"], "longitude": place["longitude"]}


async def test_the_clock_only_moves_forward(playground) -> None:
    before = await (await playground.get("/playground/api/state")).json()
    assert before["now"].endswith("09:00")  # the fake clock, 01:00 UTC, in Asia/Shanghai
    after_a_day = await jump(playground, "day")
    assert after_a_day["now"] == "现在：2026-12-02 09:00"
    await jump(playground, "start")
    response = await playground.post("/playground/api/clock", json={"to": "before3d"})
    assert response.status == 409 and "只能往前拨" in (await response.json())["error"]
    response = await playground.post("/playground/api/clock", json={"to": "yesterday"})
    assert response.status == 400


async def test_a_newcomer_pane_starts_unregistered(playground, db: Database) -> None:
    replies = await turn(playground, "newcomer", kind="start")
    assert [c["label"] for c in replies[-1]["choices"]] == ["注册志愿者", "提出需求"]
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.WEB, "newcomer")
        assert user is not None and await uow.volunteers.by_user(user.id or 0) is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"pane": "admin", "input": {"kind": "text", "text": "菜单"}}, 400),
        ({"pane": "volunteer", "input": {"kind": "location", "latitude": 95, "longitude": 118}}, 400),
        ({"pane": "volunteer", "input": {"kind": "location", "latitude": "north"}}, 400),
        ({"pane": "volunteer", "input": {"kind": "text", "text": "  "}}, 400),
        ({"pane": "volunteer", "input": "菜单"}, 400),
    ],
)
async def test_bad_turns_are_refused(playground, body: dict[str, Any], status: int) -> None:
    response = await playground.post("/playground/api/turn", json=body)
    assert response.status == status and "error" in await response.json()


async def test_only_json_from_this_machine_is_taken(playground) -> None:
    # A cross-site form posts text/plain; JSON from elsewhere would need a preflight never answered.
    response = await playground.post(
        "/playground/api/turn", data='{"pane": "volunteer", "input": {"kind": "text", "text": "x"}}'
    )
    assert response.status == 415
    # A page elsewhere reaching the server through a rebound DNS name.
    response = await playground.get("/playground/api/state", headers={"Host": "attacker.example:8080"})
    assert response.status == 403


async def test_the_page_and_its_assets_name_no_other_host(playground) -> None:
    home = await playground.get("/", allow_redirects=False)
    assert home.status == 302 and home.headers["Location"] == "/playground/"
    page = await (await playground.get("/playground/")).text()
    assert "演示模式" in page
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        "/playground/static/playground.css",
        "/playground/static/playground.js",
    ]
    for asset in ("playground.css", "playground.js"):
        response = await playground.get(f"/playground/static/{asset}")
        assert response.status == 200
        assert (STATIC / asset).read_text(encoding="utf-8") == await response.text()
        assert not re.search(r"https?://|//[a-z]|@import|url\(", await response.text())
    english = await (await playground.get("/playground/?lang=en")).text()
    assert "Demo mode" in english


async def test_the_production_app_has_no_playground(db: Database, clock: FakeClock, tmp_path) -> None:
    services = bootstrap(Settings(data_dir=tmp_path), clock=clock, database=db)
    app = build_app(services, run_scheduler=False)
    assert Channel.WEB not in services.messengers
    async with TestClient(TestServer(app)) as client:
        for path in ("/", "/playground/", "/playground/api/state"):
            assert (await client.get(path)).status == 404
        assert (await client.post("/playground/api/clock", json={"to": "day"})).status == 404
    with pytest.raises(TypeError):  # the clock control exists on the demo's clock only
        add_playground(build_app(services, run_scheduler=False), services)


async def test_the_demo_history_is_no_news_and_its_overdue_record_is_announced(playground) -> None:
    """The activities already held (bots/demo.py HISTORY) told their people back then; the first jump's
    jobs only remind the organizer of the record still missing (3-6.3) and show the volunteer's hours."""
    await jump(playground, "day")
    notices = await poll(playground)
    assert "volunteer" not in notices  # no survey, hours or evaluation of the past arrives now
    overdue = texts(notices["organizer"])
    assert "活动记录逾期" in overdue and f"“{HISTORY[1].activity.title}”" in overdue
    hours = await turn(playground, "volunteer", kind="text", text="/hours")
    assert "已确认：6.0 小时" in texts(hours)
