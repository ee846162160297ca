"""`stvs chat`: the conversation in a terminal, numbered choices, a script piped through it. The
function on both databases; the command itself on SQLite."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bots.bootstrap import bootstrap
from bots.console import chat, parse_line
from bots.demo import DEMO_PEOPLE, seed_demo
from bots.settings import Settings
from core.chat.messages import Command, Location, Text
from core.policy import Policy
from storage.database import Database
from tests.fakes.clock import FakeClock
from tests.integration import test_cli
from tests.integration.test_cli import Stvs

stvs_sqlite = test_cli.stvs_sqlite  # the CLI in-process, on a SQLite file of its own


async def test_a_piped_script_is_answered_with_numbered_choices(
    db: Database, clock: FakeClock, tmp_path
) -> None:
    services = bootstrap(Settings(data_dir=tmp_path), clock=clock, database=db)
    async with db.uow() as uow:
        await seed_demo(uow, clock, Policy())
        await uow.commit()
    out = io.StringIO()
    script = io.StringIO("菜单\n1\n\n1\n")
    turns = await chat(
        services.conversation, DEMO_PEOPLE["volunteer"], script, out, files=tmp_path / "files", echo=True
    )
    assert turns == 3  # the empty line is no turn
    transcript = out.getvalue()
    assert "> 菜单\n请选择：\n  1. 找活动\n  2. 我的活动\n" in transcript
    assert "> 1\n找活动：请选择查找方式。\n  1. 近期全部\n" in transcript
    # "1" again picks the first of the options just shown: the list of upcoming activities.
    assert "智能手机使用助老课堂" in transcript.split("> 1\n")[2]


def test_typed_lines_become_inputs() -> None:
    assert parse_line("@32.0570,118.7660") == Location(32.057, 118.766, accuracy_m=10.0)
    assert parse_line("＠32.0570，118.7660") == Location(32.057, 118.766, accuracy_m=10.0)
    assert parse_line("/start act-10") == Command("start", "act-10")
    assert parse_line(" 1 ") == Text("1")
    assert parse_line("   ") is None


def test_stvs_chat_reads_the_conversation_from_stdin(
    stvs_sqlite: Stvs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert stvs_sqlite("demo --once").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("菜单\n6\n"))
    run = stvs_sqlite("chat --as organizer")
    assert run.code == 0, run.err
    assert "> 菜单" in run.out and "  6. 组织者\n" in run.out  # the organizer is staff of the brigade
    assert "> 6\n组织者工具：请选择。\n  1. 发布新活动" in run.out
    unknown = stvs_sqlite("chat --as mayor")
    assert unknown.code == 2 and "mayor" in unknown.error


def test_stvs_chat_needs_the_demo_people(stvs_sqlite: Stvs, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stvs_sqlite("db upgrade").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("菜单\n"))
    run = stvs_sqlite("chat")
    assert run.code == 1 and "stvs demo --once" in run.error
    newcomer = stvs_sqlite("chat --as newcomer")
    assert newcomer.code == 0 and "注册" in newcomer.out


async def test_a_language_given_to_the_console_is_the_persons_language_from_then_on(
    db: Database, clock: FakeClock, tmp_path
) -> None:
    services = bootstrap(Settings(data_dir=tmp_path), clock=clock, database=db)
    async with db.uow() as uow:
        await seed_demo(uow, clock, Policy())
        await uow.commit()
    organizer = DEMO_PEOPLE["organizer"]
    out = io.StringIO()
    await chat(
        services.conversation, organizer, io.StringIO("菜单\n"), out, files=tmp_path, language="en", echo=True
    )
    assert "> 菜单\nWhat would you like to do?\n" in out.getvalue()  # a demo person, known in Chinese
    out = io.StringIO()
    await chat(services.conversation, organizer, io.StringIO("menu\n"), out, files=tmp_path)
    assert "What would you like to do?" in out.getvalue()  # kept, as /language keeps it
    out = io.StringIO()
    await chat(
        services.conversation, "someone-new", io.StringIO("/start\n"), out, files=tmp_path, language="en"
    )
    assert "Hello!" in out.getvalue()


def test_stvs_lang_en_chat_speaks_english(stvs_sqlite: Stvs, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stvs_sqlite("demo --once").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("菜单\n"))
    run = stvs_sqlite("--lang en chat --as organizer")
    assert run.code == 0, run.err
    assert "> 菜单\nWhat would you like to do?\n" in run.out and "Organizer" in run.out
    monkeypatch.setattr("sys.stdin", io.StringIO("菜单\n"))
    back = stvs_sqlite("--lang zh_CN chat --as organizer")
    assert "> 菜单\n请选择：\n" in back.out
