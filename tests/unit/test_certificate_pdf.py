"""4-5.5: the certificate PDF says what the snapshot says, in text a reader can copy and search."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from pypdf import PdfReader

from bots.certificate_pdf import render_certificate
from core.domain.certificate import CertificateLine, CertificateSnapshot
from locales import translator
from tests.builders import CERTIFICATE_LINES, certificate_snapshot

FULL_ID = "11010519491231002X"
URL = "https://stvs.example.cn/verify/STVS-2026-7K3QX9M2"
TITLES = tuple(line.activity_title for line in CERTIFICATE_LINES)


def snapshot(lines: tuple[CertificateLine, ...] | None = None) -> CertificateSnapshot:
    return certificate_snapshot() if lines is None else certificate_snapshot(lines)


def read(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_chinese_certificate_holds_every_fact_as_text() -> None:
    reader, text = read(render_certificate(snapshot(), translator("zh_CN")))
    assert len(reader.pages) == 1
    assert "志愿服务记录证明" in text
    assert "STVS-2026-7K3QX9M2" in text
    assert "欧阳小明" in text
    assert "V2026000123" in text
    assert "12.5" in text
    assert "12.5 小时" in text
    for title in TITLES:
        assert title in text
    assert "海淀区科学技术协会" in text
    assert "2026年6月1日" in text
    assert "CVST 4-5.5" in text
    assert URL in text


def test_only_the_masked_id_number_is_printed() -> None:
    _, text = read(render_certificate(snapshot(), translator("zh_CN")))
    assert "1101**********002X" in text
    assert FULL_ID not in text


def test_no_id_row_when_none_is_on_record() -> None:
    _, text = read(render_certificate(replace(snapshot(), masked_id_number=""), translator("zh_CN")))
    assert "身份证件号码" not in text


def test_metadata_title_is_the_certificate_number() -> None:
    reader, _ = read(render_certificate(snapshot(), translator("zh_CN")))
    assert reader.metadata is not None
    assert reader.metadata.title == "STVS-2026-7K3QX9M2"


def test_rendering_again_gives_the_same_bytes() -> None:
    t = translator("zh_CN")
    assert render_certificate(snapshot(), t) == render_certificate(snapshot(), t)


def test_a_long_record_flows_onto_more_pages() -> None:
    start = date(2025, 1, 1)
    lines = tuple(
        CertificateLine(
            f"第{i}次社区科普讲座", "海淀区科学技术协会", start + timedelta(days=i), Decimal("2.0")
        )
        for i in range(1, 61)
    )
    reader, text = read(
        render_certificate(replace(snapshot(lines), total_hours=Decimal("120")), translator("zh_CN"))
    )
    assert len(reader.pages) > 1
    for line in lines:
        assert line.activity_title in text
    assert URL in text
    assert "第 2 页" in text  # the footer names the certificate on every page


def test_no_confirmed_hours_yet() -> None:
    empty = replace(snapshot(()), period_start=None, period_end=None, total_hours=Decimal("0"))
    _, text = read(render_certificate(empty, translator("zh_CN")))
    assert "尚无已确认的服务时长" in text
    assert "0.0 小时" in text


def test_markup_in_a_title_is_printed_as_text() -> None:
    line = CertificateLine("<b>R&D</b> 开放日", "某协会", date(2026, 3, 7), Decimal("1.0"))
    _, text = read(render_certificate(snapshot((line,)), translator("zh_CN")))
    assert "<b>R&D</b> 开放日" in text


def test_english_labels() -> None:
    _, text = read(render_certificate(snapshot(), translator("en")))
    assert "Volunteer Service Record Certificate" in text
    assert "Total confirmed hours" in text
    assert "12.5 hours" in text
    assert "志愿服务记录证明" not in text
    assert TITLES[0] in text  # the record itself stays as written
    assert URL in text
