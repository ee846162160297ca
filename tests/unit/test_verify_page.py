"""4-5.5: the verify page confirms a certificate to a third party with the name masked and no ID, and
says which certificate it is: the service record or the training certificate (2-7.4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bots.verify_page import render_verify_page
from core.domain.certificate import CertificateKind, CertificateLine, CertificateSnapshot
from core.domain.codes import TrainingKind
from core.domain.identity_numbers import mask_name
from locales import translator
from tests.builders import CERTIFICATE_LINES, certificate_snapshot

FULL_ID = "11010519491231002X"
MASKED_ID = "1101**********002X"


def snapshot(*lines: CertificateLine) -> CertificateSnapshot:
    if not lines:
        lines = (
            CERTIFICATE_LINES[0],
            CertificateLine(
                "青少年科学实验开放日", "北京市青少年科技中心", date(2026, 4, 12), Decimal("8.5")
            ),
        )
    return certificate_snapshot(lines, volunteer_name="张小三", period_end=date(2026, 4, 12))


def test_valid_certificate_shows_the_masked_name_and_hours() -> None:
    page = render_verify_page(snapshot(), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert "证书有效" in page
    assert "张*三" in page
    assert "V2026000123" in page
    assert "12.5 小时" in page
    assert "2026年3月7日 至 2026年4月12日" in page
    assert "海淀区科学技术协会" in page
    assert "2026年6月1日" in page
    assert "社区老年人智能手机使用辅导" in page
    assert "8.5" in page


def test_valid_page_holds_no_personal_data_beyond_the_masked_name() -> None:
    page = render_verify_page(snapshot(), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "张小三" not in page
    assert FULL_ID not in page
    assert MASKED_ID not in page
    assert "身份证件号码" not in page


def test_page_loads_nothing_else() -> None:
    page = render_verify_page(snapshot(), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "<script" not in page
    assert "<link" not in page
    assert "src=" not in page
    assert "url(" not in page


def test_revoked_certificate_shows_the_reason() -> None:
    page = render_verify_page(
        snapshot(), revoked_reason="时长记录有误，已重新出具", revoked=True, t=translator("zh_CN")
    )
    assert "证书已撤销" in page
    assert "时长记录有误，已重新出具" in page
    assert "证书有效" not in page
    assert "张小三" not in page


def test_unknown_number_is_not_verified() -> None:
    page = render_verify_page(None, revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "未找到该证书编号" in page
    assert "证书有效" not in page


def test_the_asked_number_is_escaped() -> None:
    page = render_verify_page(
        None, revoked_reason=None, revoked=False, t=translator("zh_CN"), number="<img src=x onerror=alert(1)>"
    )
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_every_value_is_escaped() -> None:
    line = CertificateLine("<script>alert(1)</script>", "A&B 协会", date(2026, 3, 7), Decimal("1.0"))
    page = render_verify_page(snapshot(line), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A&amp;B 协会" in page
    revoked = render_verify_page(
        snapshot(), revoked_reason="<script>x</script>", revoked=True, t=translator("zh_CN")
    )
    assert "<script>" not in revoked


def test_english_page() -> None:
    page = render_verify_page(snapshot(), revoked_reason=None, revoked=False, t=translator("en"))
    assert '<html lang="en">' in page
    assert "Certificate valid" in page
    assert "12.5 hours" in page
    forced = render_verify_page(
        snapshot(), revoked_reason=None, revoked=False, t=translator("en"), language="zh_CN"
    )
    assert '<html lang="zh-CN">' in forced


def test_service_certificate_says_which_it_is() -> None:
    page = render_verify_page(snapshot(), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "<title>志愿服务记录证明核验</title>" in page
    assert "<dt>证明类型</dt><dd>志愿服务记录证明</dd>" in page


def training() -> CertificateSnapshot:
    line = CertificateLine(
        "科技志愿者安全培训", "海淀区科学技术协会", date(2026, 3, 7), Decimal("2.5"), TrainingKind.SAFETY
    )
    return certificate_snapshot(
        (line,), kind=CertificateKind.TRAINING, volunteer_name="张小三", total_hours=Decimal("2.5")
    )


def test_training_certificate_says_it_is_one_and_names_each_training_kind() -> None:
    page = render_verify_page(training(), revoked_reason=None, revoked=False, t=translator("zh_CN"))
    assert "<title>科技志愿培训证明核验</title>" in page and "证书有效" in page
    assert "<dt>证明类型</dt><dd>科技志愿培训证明</dd>" in page
    assert "<dt>已确认培训时长合计</dt><dd>2.5 小时</dd>" in page
    assert "<th>类别</th>" in page and "<td>安全培训</td>" in page and "科技志愿者安全培训" in page
    assert "张*三" in page and "张小三" not in page and FULL_ID not in page
    english = render_verify_page(training(), revoked_reason=None, revoked=False, t=translator("en"))
    assert "Science and Technology Volunteer Training Certificate" in english and "Safety training" in english


def test_revoked_training_certificate_says_it_attests_no_training() -> None:
    page = render_verify_page(
        None,
        revoked_reason="签到记录有误",
        revoked=True,
        t=translator("zh_CN"),
        number="STVS-2026-7K3QX9M2",
        kind=CertificateKind.TRAINING,
    )
    assert "<title>科技志愿培训证明核验</title>" in page
    assert "证书已撤销" in page and "不再作为培训的证明" in page and "签到记录有误" in page


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小明", "欧**明"),
        ("  李四 ", "李*"),
        ("张", "*"),
        ("John Smith", "J*** S****"),
        ("Li", "L*"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
