"""Every user-facing text goes through the catalogs; zh_CN and en must both hold every key."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.domain import codes
from core.domain.activity import ActivityStatus
from core.domain.organization import OrgStatus
from core.domain.people import ConsentKind
from core.domain.signup import SignupStatus
from core.domain.volunteer import MembershipStatus
from locales import LANGUAGES, po_files, read_catalog

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^[a-z][a-z_]*(\.[a-z0-9_]+)+$")
NOT_KEYS = {"core.chat", "core.domain", "storage.types"}


def _keys(language: str) -> set[str]:
    return {m.id for m in read_catalog(language) if m.id and m.string}


def _literal_keys() -> set[str]:
    """String literals in the product code shaped like a message key (module paths aside)."""
    prefixes = {k.split(".")[0] for k in _keys("zh_CN")}
    found: set[str] = set()
    for folder in ("core", "bots", "scheduler"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            # Audit action names ("signup.create") are records, not messages.
            audit_args = {
                id(inner)
                for call in ast.walk(tree)
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "audit"
                for arg in call.args
                for inner in ast.walk(arg)
            }
            for node in ast.walk(tree):
                if id(node) in audit_args:
                    continue
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and KEY.match(node.value)
                    and node.value.split(".")[0] in prefixes
                    and node.value not in NOT_KEYS
                ):
                    found.add(node.value)
    return found


def test_both_catalogs_hold_the_same_keys() -> None:
    zh, en = _keys("zh_CN"), _keys("en")
    assert zh - en == set(), "missing in en"
    assert en - zh == set(), "missing in zh_CN"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_used_in_code_is_translated(language: str) -> None:
    known = _keys(language)  # read once: parsing every catalog per key took a minute
    missing = sorted(k for k in _literal_keys() if not k.endswith(".") and k not in known)
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_table_value_has_a_label(language: str) -> None:
    tables = {
        "service_content": codes.ServiceContent,
        "service_group": codes.ServiceContentGroup,
        "service_object": codes.ServiceObject,
        "mode": codes.ActivityMode,
        "skill": codes.ProfessionalField,
        "qualification": codes.Qualification,
        "special_group": codes.SpecialGroup,
        "risk": codes.RiskLevel,
        "org_kind": codes.OrgKind,
        "base_kind": codes.BaseKind,
        "org_status": OrgStatus,
        "activity_status": ActivityStatus,
        "signup_status": SignupStatus,
        "membership_status": MembershipStatus,
        "consent": ConsentKind,
    }
    keys = _keys(language)
    missing = [
        f"code.{t}.{v.value}" for t, enum in tables.items() for v in enum if f"code.{t}.{v.value}" not in keys
    ]
    assert missing == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_is_written_in_two_files(language: str) -> None:
    """The area files are merged into one catalog: a key in two of them would be said from whichever
    file comes last, silently."""
    seen: dict[str, str] = {}
    twice = []
    for path in po_files(language):
        for key in re.findall(r'^msgid "(.+)"$', path.read_text(encoding="utf-8"), re.M):
            if key in seen:
                twice.append(f"{key}: {seen[key]} and {path.name}")
            seen[key] = path.name
    assert twice == []
