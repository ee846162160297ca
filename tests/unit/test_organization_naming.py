from __future__ import annotations

import pytest

from core.domain.codes import OrgKind
from core.domain.organization import FORBIDDEN_NAME_WORDS, check_org_name
from core.errors import InvalidInput

# 1-5.2 note 2: a name built from a project, place or field must not use these words.
FORBIDDEN = ("中国", "全国", "中华", "国家", "国际", "世界", "全球")


def test_forbidden_word_list_is_the_one_of_the_guideline() -> None:
    assert set(FORBIDDEN_NAME_WORDS) == set(FORBIDDEN)


@pytest.mark.parametrize("word", FORBIDDEN)
def test_forbidden_word_is_refused_and_named(word: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_org_name(f"海淀{word}科普志愿服务队", OrgKind.TEAM)
    assert caught.value.key == "org.name.forbidden_word"
    assert caught.value.params["word"] == word


@pytest.mark.parametrize("word", FORBIDDEN)
@pytest.mark.parametrize("gap", [" ", "\u3000", "\u200b", " \u200d "])
def test_forbidden_word_split_by_spaces_or_invisible_characters_is_still_refused(word: str, gap: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_org_name(f"海淀{word[0]}{gap}{word[1]}科普志愿服务队", OrgKind.TEAM)
    assert caught.value.params["word"] == word


@pytest.mark.parametrize("word", FORBIDDEN)
def test_unit_full_name_may_contain_a_forbidden_word(word: str) -> None:
    # 1-5.2: the full name of a unit is one of the allowed forms, whatever words it holds.
    name = f"{word}科学技术协会科技志愿服务队"
    assert check_org_name(name, OrgKind.TEAM, unit_full_name=True) == name


def test_plain_team_name_is_accepted_and_whitespace_collapsed() -> None:
    assert check_org_name("  海淀区   科普志愿服务队 ", OrgKind.TEAM) == "海淀区 科普志愿服务队"


def test_brigade_name_must_contain_zongdui() -> None:
    # 1-5.2 note 1: orgs of national societies and provincial associations are brigades (总队).
    assert check_org_name("北京市科协科技志愿服务总队", OrgKind.BRIGADE) == "北京市科协科技志愿服务总队"
    with pytest.raises(InvalidInput) as caught:
        check_org_name("北京市科协科技志愿服务队", OrgKind.BRIGADE)
    assert caught.value.key == "org.name.brigade_suffix"
    assert caught.value.params["suffix"] == "总队"


def test_team_may_not_call_itself_a_brigade() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_org_name("海淀区科普志愿服务总队", OrgKind.TEAM)
    assert caught.value.key == "org.name.not_brigade"


@pytest.mark.parametrize("name", ["", "   ", "科普队", "科" * 61])
def test_name_length_is_bounded(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_org_name(name, OrgKind.TEAM)
    assert caught.value.key == "org.name.length"


@pytest.mark.parametrize(
    ("name", "word"),
    [("中國青年科技志愿服务队", "中国"), ("中華科技志愿服务队", "中华"), ("國際合作科技志愿服务队", "国际")],
)
def test_traditional_forms_of_forbidden_words_are_refused_too(name: str, word: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_org_name(name, OrgKind.TEAM)
    assert caught.value.params == {"word": word}
