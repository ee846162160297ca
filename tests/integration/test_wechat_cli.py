"""`stvs wechat menu` and `stvs wechat qrcode`, run in-process against the fake WeChat API (served from
a thread of its own: the CLI runs its own event loop). Bad input is one translated line, exit code 2."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bots.cli import WECHAT_MENU, main
from storage.types import cipher
from tests.fakes.wechat_api import FakeWeChatAPI

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("stvs: error: "), self.err
        return lines[0].removeprefix("stvs: error: ")


Stvs = Callable[[str], Run]


@pytest.fixture
def wechat() -> Iterator[FakeWeChatAPI]:
    with FakeWeChatAPI().running_in_thread() as api:
        yield api


def _runner(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Stvs:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("STVS_DATA_KEY", "STVS_LANGUAGE", "STVS_WECHAT_APP_ID", "STVS_WECHAT_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STVS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STVS_DATABASE_URL", url)
    monkeypatch.setattr(cipher, "_fernet", cipher._fernet)

    def run(command: str) -> Run:
        code = main(shlex.split(command))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    assert run("db upgrade").code == 0
    return run


@pytest.fixture
def stvs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Stvs:
    """A SQLite database at the newest revision, and no WeChat account configured yet."""
    return _runner(f"sqlite+aiosqlite:///{tmp_path / 'stvs.sqlite3'}", tmp_path, monkeypatch, capsys)


@pytest.fixture
def configured(stvs: Stvs, wechat: FakeWeChatAPI, monkeypatch: pytest.MonkeyPatch) -> Stvs:
    monkeypatch.setenv("STVS_WECHAT_APP_ID", wechat.app_id)
    monkeypatch.setenv("STVS_WECHAT_APP_SECRET", wechat.secret)
    monkeypatch.setenv("STVS_WECHAT_API_BASE", wechat.base_url)
    return stvs


def _keys(menu: dict[str, object]) -> set[str]:
    found: set[str] = set()
    for button in menu["button"]:  # type: ignore[attr-defined]
        for item in [button, *button.get("sub_button", [])]:
            if "key" in item:
                found.add(item["key"])
    return found


def test_menu_creates_the_default_menu(configured: Stvs, wechat: FakeWeChatAPI) -> None:
    run = configured("wechat menu")
    assert run.code == 0, run.err
    assert "已创建自定义菜单" in run.out
    assert wechat.menu == json.loads(WECHAT_MENU.read_text(encoding="utf-8"))
    assert wechat.menu is not None
    names = [button["name"] for button in wechat.menu["button"]]
    assert names == ["找活动", "签到", "我的"]  # WeChat allows three top-level buttons
    assert {"FIND", "MY", "CHECKIN", "MORE"} <= _keys(wechat.menu)


def test_menu_from_a_file_in_english(configured: Stvs, wechat: FakeWeChatAPI, tmp_path: Path) -> None:
    path = tmp_path / "menu.json"
    path.write_text(json.dumps({"button": [{"type": "click", "name": "Find", "key": "FIND"}]}))
    run = configured(f"--lang en wechat menu --file {path}")
    assert run.code == 0, run.err
    assert "Custom menu created (1 top-level buttons" in run.out
    assert wechat.menu == {"button": [{"type": "click", "name": "Find", "key": "FIND"}]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "不是有效的 JSON"),
        (json.dumps({"button": [{"type": "click", "name": str(n), "key": "K"} for n in range(4)]}), "1–3 个"),
        (json.dumps([]), "1–3 个"),
    ],
)
def test_a_bad_menu_file_is_one_line_and_nothing_is_sent(
    configured: Stvs, wechat: FakeWeChatAPI, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "menu.json"
    path.write_text(content)
    run = configured(f"wechat menu --file {path}")
    assert run.code == 2
    assert expected in run.error
    assert wechat.calls() == []


def test_a_missing_menu_file_is_one_line(configured: Stvs, tmp_path: Path) -> None:
    run = configured(f"wechat menu --file {tmp_path / 'nowhere.json'}")
    assert run.code == 2
    assert "无法读取菜单文件" in run.error


def test_wechat_refusing_the_menu_is_one_line_and_exit_1(configured: Stvs, wechat: FakeWeChatAPI) -> None:
    wechat.fail_next(40018, endpoint="menu/create")
    run = configured("wechat menu")
    assert run.code == 1
    assert "40018" in run.error


def test_qrcode_prints_the_ticket_url_and_writes_a_png(
    configured: Stvs, wechat: FakeWeChatAPI, tmp_path: Path
) -> None:
    out = tmp_path / "qr.png"
    run = configured(f"wechat qrcode act_42 --out {out}")
    assert run.code == 0, run.err
    [call] = wechat.calls("qrcode/create")
    assert call.body == {
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": "act_42"}},
    }
    assert "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH" in run.out
    assert "http://weixin.qq.com/q/act_42_" in run.out
    assert out.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("payload", ["bad!payload", "a" * 65, "活动"])
def test_a_bad_qrcode_payload_is_refused_before_any_call(
    configured: Stvs, wechat: FakeWeChatAPI, payload: str
) -> None:
    run = configured(f"wechat qrcode {shlex.quote(payload)}")
    assert run.code == 2
    assert "二维码参数" in run.error
    assert wechat.calls() == [] and wechat.token_fetches == 0


def test_the_cli_shares_the_access_token_through_the_database(
    configured: Stvs, wechat: FakeWeChatAPI
) -> None:
    assert configured("wechat qrcode one").code == 0
    assert configured("wechat qrcode two").code == 0
    assert configured("wechat menu").code == 0
    assert wechat.token_fetches == 1


@pytest.mark.parametrize("command", ["wechat menu", "wechat qrcode act_1"])
def test_without_wechat_settings_it_is_one_line_and_exit_2(stvs: Stvs, command: str) -> None:
    run = stvs(command)
    assert run.code == 2
    assert "STVS_WECHAT_APP_ID" in run.error


def test_an_unreachable_wechat_is_one_line_and_exit_1(
    stvs: Stvs, wechat: FakeWeChatAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STVS_WECHAT_APP_ID", wechat.app_id)
    monkeypatch.setenv("STVS_WECHAT_APP_SECRET", wechat.secret)
    monkeypatch.setenv("STVS_WECHAT_API_BASE", "http://127.0.0.1:9/cgi-bin/")  # nothing listens there
    run = stvs("wechat qrcode act_1")
    assert run.code == 1
    assert "无法连接微信接口" in run.error


def test_help_is_translated(stvs: Stvs) -> None:
    run = stvs("--lang en wechat qrcode --help")
    assert run.code == 0
    assert "permanent parametric QR code" in run.out
    assert "the QR code's payload" in run.out
