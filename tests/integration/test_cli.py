"""The `stvs` command line, run in-process on a database of its own (SQLite, and PostgreSQL where
the test is cheap). Bad input is always one translated line on stderr and exit code 2."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.cli import main
from bots.demo import ACTIVITIES, BRIGADE, FARM_TEAM, HISTORY, SCIENCE_TEAM
from core.domain.codes import Channel
from core.services.access import load_actor
from storage.database import Database
from storage.types import cipher

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one line a failed command prints."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("stvs: error: "), self.err
        assert "Traceback" not in self.err
        return lines[0].removeprefix("stvs: error: ")


Stvs = Callable[..., Run]


def _runner(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Stvs:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("STVS_DATA_KEY", "STVS_LANGUAGE", "STVS_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STVS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STVS_DATABASE_URL", url)
    # The CLI configures the cipher with its own key; the other tests get theirs back afterwards.
    monkeypatch.setattr(cipher, "_fernet", cipher._fernet)

    def run(command: str) -> Run:
        """``command`` as typed after ``stvs`` in a shell."""
        code = main(shlex.split(command))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


@pytest.fixture
def stvs(
    blank_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Stvs:
    """On each database."""
    return _runner(blank_db_url, tmp_path, monkeypatch, capsys)


@pytest.fixture
def stvs_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Stvs:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stvs.sqlite3'}"
    return _runner(url, tmp_path, monkeypatch, capsys)


@pytest.fixture
def upgraded(stvs_sqlite: Stvs) -> Stvs:
    assert stvs_sqlite("db upgrade").code == 0
    return stvs_sqlite


def test_help_lists_every_command(stvs_sqlite: Stvs) -> None:
    run = stvs_sqlite("--help")
    assert run.code == 0
    for command in ("demo", "chat", "db", "admin", "org", "activity", "seed", "export"):
        assert command in run.out
    assert "用法" in run.out
    assert "usage" in stvs_sqlite("--lang en org create --help").out


def test_db_upgrade_then_current(stvs: Stvs) -> None:
    assert "尚未初始化" in stvs("db current").out
    first = stvs("db upgrade")
    assert first.code == 0 and "已升级" in first.out, first.err
    again = stvs("db upgrade")
    assert again.code == 0 and "已是最新" in again.out
    current = stvs("--lang en db current")
    assert current.code == 0 and "the newest" in current.out


def test_demo_builds_the_demo_and_shows_it(stvs: Stvs) -> None:
    run = stvs(
        "demo --once"
    )  # without --once it serves the web playground (tests/integration/test_web_playground.py)
    assert run.code == 0, run.err
    assert run.err == ""
    for name in (BRIGADE, SCIENCE_TEAM, FARM_TEAM):
        assert name in run.out
    seeded = len(ACTIVITIES) + len(HISTORY)  # those to come and those already held
    assert f"{BRIGADE}（总队）：下级组织 2 个，志愿者 10 名，活动 {seeded} 个" in run.out
    assert "└─ " in run.out
    # Every demo activity is upcoming, with its time in Asia/Shanghai and the places left.
    listed = re.findall(r"^#\d+\s+\d+月\d+日 周. \d\d:\d\d–\d\d:\d\d", run.out, re.MULTILINE)
    assert len(listed) == len(ACTIVITIES)
    assert "稻麦绿色高产技术田间指导" in run.out and "需购买保险" in run.out
    assert "08:30–12:30" in run.out  # the field class starts 08:30 Beijing time, not UTC
    assert "剩余名额 8/10" in run.out


def test_seeding_again_changes_nothing(stvs: Stvs) -> None:
    assert stvs("db upgrade").code == 0
    first = stvs("seed demo")
    assert first.code == 0 and "演示数据已写入" in first.out, first.err
    before = stvs("activity list --limit 100").out
    again = stvs("seed demo")
    assert again.code == 0 and "未做改动" in again.out
    assert stvs("activity list --limit 100").out == before
    assert stvs("org list").out.count("\n") == 3


def test_admin_grant_bootstraps_the_first_admin(stvs: Stvs, blank_db_url: str) -> None:
    assert stvs("db upgrade").code == 0
    run = stvs("admin grant --channel telegram --user 424242 --role admin")
    assert run.code == 0, run.err
    assert "Telegram 用户 424242 已获得平台管理员角色" in run.out
    assert stvs("admin grant --channel telegram --user 424242 --role admin").code == 0

    async def actor_of(external_id: str) -> tuple[bool, frozenset[int]]:
        database = Database(blank_db_url)
        try:
            async with database.uow() as uow:
                user = await uow.users.by_identity(Channel.TELEGRAM, external_id)
                assert user is not None
                actor = await load_actor(uow, user.id)
                return actor.admin, actor.staff_of
        finally:
            await database.dispose()

    assert asyncio.run(actor_of("424242")) == (True, frozenset())


def test_admin_grant_staff_of_an_org_by_name_or_number(upgraded: Stvs) -> None:
    assert upgraded("seed demo").code == 0
    by_name = upgraded(f"admin grant --channel wechat --user oX1 --role staff --org {FARM_TEAM}")
    assert by_name.code == 0, by_name.err
    assert f"微信用户 oX1 已成为“{FARM_TEAM}”的工作人员" in by_name.out
    by_number = upgraded("--lang en admin grant --channel wechat --user oX2 --role staff --org 1")
    assert by_number.code == 0 and f'is now staff of "{BRIGADE}"' in by_number.out


BRIGADE_ARGS = "--kind brigade --field 科学普及 --leader 张三 --contact 025-00000000"
TEAM_ARGS = "--kind team --field 科普 --leader 李四 --contact 13800000000"


def test_org_create_and_list_as_a_tree(upgraded: Stvs) -> None:
    brigade = upgraded(f"org create --name 浙江省科协科技志愿服务总队 {BRIGADE_ARGS}")
    assert brigade.code == 0, brigade.err
    assert "已登记组织 #1“浙江省科协科技志愿服务总队”（总队 · 已通过）" in brigade.out
    team = upgraded(
        f"org create --name 杭州青少年科普志愿服务队 {TEAM_ARGS} --parent 浙江省科协科技志愿服务总队 --items c1,c2 --members 12"
    )
    assert team.code == 0, team.err
    assert upgraded("org list").out.splitlines() == [
        "浙江省科协科技志愿服务总队（#1 · 总队 · 已通过）",
        "└─ 杭州青少年科普志愿服务队（#2 · 队 · 已通过）",
    ]


def test_unit_full_name_may_contain_a_restricted_word(upgraded: Stvs) -> None:
    run = upgraded(f"org create --name 中国科协科技志愿服务总队 {BRIGADE_ARGS} --unit-full-name")
    assert run.code == 0, run.err


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (f"org create --name 中国青少年科普志愿服务队 {TEAM_ARGS}", "组织名称不能含有“中国”"),
        (f"org create --name 南京全球科普志愿服务队 {TEAM_ARGS}", "组织名称不能含有“全球”"),
        (
            f"org create --name 南京科普志愿服务队 {TEAM_ARGS} --parent 没有这个组织",
            "没有编号或名称为“没有这个组织”的组织",
        ),
        (f"org create --name 南京科普志愿服务队 {TEAM_ARGS} --items c2,z9", "z9"),
        (f"org create --name 南京科普志愿服务队 {TEAM_ARGS} --kind club", "未知的组织类型“club”"),
        (f"org create --name 南京科普志愿服务队 {TEAM_ARGS} --members many", "--members"),
        ("org create --name 南京科普志愿服务队", "缺少参数"),
        ("admin grant --channel telegram --user 1 --role boss", "未知的角色“boss”"),
        ("admin grant --channel qq --user 1 --role admin", "未知的渠道“qq”"),
        ("admin grant --channel telegram --user 1 --role staff", "授予工作人员角色时请指定组织"),
        ("admin grant --channel telegram --user 1 --role staff --org 99", "“99”"),
        ("admin grant --channel telegram --user 1 --role admin --org 1", "平台管理员"),
        ("activity list --limit 0", "--limit"),
        ("frobnicate", "未知的命令“frobnicate”"),
        ("db", "请指定命令：upgrade, current"),
        ("org list --verbose", "无法识别的参数：--verbose"),
        ("--lang fr org list", "未知的语言“fr”"),
    ],
)
def test_bad_input_is_one_translated_line_and_exit_2(upgraded: Stvs, command: str, message: str) -> None:
    assert upgraded(f"org create --name 江苏省科协科技志愿服务总队 {BRIGADE_ARGS}").code == 0
    run = upgraded(command)
    assert run.code == 2
    assert run.out == ""
    assert message in run.error


def test_errors_speak_english_when_asked(upgraded: Stvs) -> None:
    run = upgraded(f"--lang en org create --name 中国青少年科普志愿服务队 {TEAM_ARGS}")
    assert run.code == 2
    assert run.error == 'The name must not contain "中国" (CVST 1 5.2 note 2); please change it.'
    assert "unknown command" in upgraded("frobnicate --lang=en").error


def test_commands_wait_for_db_upgrade(stvs_sqlite: Stvs) -> None:
    run = stvs_sqlite("org list")
    assert run.code == 1
    assert "stvs db upgrade" in run.error


def test_bad_settings_are_one_line(stvs_sqlite: Stvs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STVS_DATABASE_URL", "mysql://localhost/stvs")
    run = stvs_sqlite("db upgrade")
    assert run.code == 2
    assert "STVS_DATABASE_URL" in run.error
    monkeypatch.delenv("STVS_DATABASE_URL")
    monkeypatch.setenv("STVS_DATA_KEY", "not-a-fernet-key")
    run = stvs_sqlite("db upgrade")
    assert run.code == 2 and "STVS_DATA_KEY" in run.error


def test_unreachable_database_is_one_line(stvs_sqlite: Stvs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STVS_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/stvs")
    run = stvs_sqlite("db upgrade")
    assert run.code == 1
    assert run.error


def test_the_command_runs_as_a_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STVS_")}
    env |= {"STVS_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}

    def stvs(command: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "bots.cli", *shlex.split(command)]
        return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    ok = stvs("--lang en db upgrade")
    assert ok.returncode == 0, ok.stderr
    assert "Database upgraded to revision" in ok.stdout
    assert (tmp_path / "data" / "stvs.sqlite3").exists()
    bad = stvs("admin grant --channel telegram --user 1 --role root")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["stvs: error: 未知的角色“root”，可选：admin, staff"]


def test_certificate_revoke_stops_it_verifying(upgraded: Stvs, tmp_path: Path) -> None:
    """4-5.5: the operator revokes a wrong certificate with a reason; an unknown number is said so."""
    from core.domain.attendance import RecordStatus
    from core.policy import Policy
    from core.services.certificates import issue_certificate, verify_certificate
    from storage.database import Database
    from tests.builders import make_activity, make_admin, make_org, make_record, make_volunteer
    from tests.fakes.clock import FakeClock

    url = f"sqlite+aiosqlite:///{tmp_path / 'stvs.sqlite3'}"

    async def issue() -> str:
        db, clock = Database(url), FakeClock()
        try:
            async with db.uow() as uow:
                org = await make_org(uow, clock, "南京科普宣讲志愿服务队")
                volunteer, actor = await make_volunteer(uow, clock, org_id=org.id)
                activity = await make_activity(uow, clock, await make_admin(uow, clock), org.id)
                # 4-5.5: a certificate is of confirmed hours
                await make_record(
                    uow, clock, activity, volunteer.id, activity.starts_at, status=RecordStatus.CONFIRMED
                )
                number = (await issue_certificate(uow, clock, Policy(), actor)).number
                await uow.commit()
            return number
        finally:
            await db.dispose()

    async def reason(number: str) -> str | None:
        db = Database(url)
        try:
            async with db.uow() as uow:
                return (await verify_certificate(uow, number)).revoke_reason
        finally:
            await db.dispose()

    number = asyncio.run(issue())
    run = upgraded(f"certificate revoke {number} --reason 记录有误")
    assert run.code == 0 and run.out.strip() == f"服务证明 {number} 已撤销。", run.err
    assert asyncio.run(reason(number)) == "记录有误"
    assert upgraded(f"certificate revoke {number} --reason 再次").error == "该证明已撤销。"
    assert upgraded("certificate revoke STVS-2026-NOTREAL2 --reason x").error == "找不到编号为该值的证明。"


def test_the_scheduler_runs_alone_until_sigterm(tmp_path: Path) -> None:
    """`stvs scheduler`: every job without the web server. A notice due is dealt with (no channel is
    configured, so it is marked failed), and SIGTERM stops it cleanly with exit code 0."""
    import signal
    import time

    from core.clock import SystemClock
    from core.services.notices import enqueue
    from core.services.users import ensure_user
    from scheduler.jobs import JOB_IDS

    env = {k: v for k, v in os.environ.items() if not k.startswith("STVS_")}
    env |= {"STVS_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "bots.cli"]
    upgrade = subprocess.run(
        [*argv, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr
    url = f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'stvs.sqlite3').resolve()}"

    async def queue() -> int:
        db, clock = Database(url), SystemClock()
        try:
            async with db.uow() as uow:
                user = await ensure_user(uow, clock, Channel.TELEGRAM, "424242")
                assert user.id is not None
                await enqueue(uow, clock, "test:1", user.id, "notice.promoted", title="讲座", start="-")
                await uow.commit()
                return user.id
        finally:
            await db.dispose()

    user_id = asyncio.run(queue())
    process = subprocess.Popen(
        [*argv, "scheduler"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    async def outcome() -> tuple[bool, str | None, object] | None:
        """The notice once the scheduler has dealt with it; None if it has not within 60 s."""
        db = Database(url)
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline and process.poll() is None:
                async with db.uow() as uow:
                    [notice] = await uow.notices.for_user(user_id)
                    if notice.failed or notice.sent_at is not None:
                        return notice.failed, notice.last_error, notice.sent_at
                await asyncio.sleep(0.2)
            return None
        finally:
            await db.dispose()

    try:
        dealt = asyncio.run(outcome())
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert dealt == (True, "no channel to reach this user", None), (out, err)
    assert process.returncode == 0, err
    assert f"调度器已启动：{len(JOB_IDS)} 个定时任务，发送渠道：无" in out
    assert out.strip().endswith("调度器已停止。")
    assert "Traceback" not in err


def test_the_scheduler_waits_for_db_upgrade(stvs_sqlite: Stvs) -> None:
    run = stvs_sqlite("scheduler")
    assert run.code == 1
    assert "stvs db upgrade" in run.error
    assert "scheduler" in stvs_sqlite("--help").out
