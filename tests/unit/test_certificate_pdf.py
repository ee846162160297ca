"""4-5.5: the certificate PDF says what the snapshot says, in text a reader can copy and search; 2-7.4:
the training certificate too, with each training's kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from pypdf import PdfReader

from bots.certificate_pdf import render_certificate
from core.domain.certificate import CertificateKind, CertificateLine, CertificateSnapshot
from core.domain.codes import TrainingKind
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


# ---- 2-7.4: the training certificate ----------------------------------------------------------------

TRAINING_LINES = (
    CertificateLine(
        "科技志愿者通用培训", "海淀区科学技术协会", date(2026, 3, 1), Decimal("2.0"), TrainingKind.GENERAL
    ),
    CertificateLine(
        "场馆讲解岗位培训", "北京市青少年科技中心", date(2026, 4, 2), Decimal("3.5"), TrainingKind.POST
    ),
)


def training() -> CertificateSnapshot:
    return replace(
        snapshot(TRAINING_LINES),
        kind=CertificateKind.TRAINING,
        period_start=date(2026, 3, 1),
        period_end=date(2026, 4, 2),
        total_hours=Decimal("5.5"),
    )


def test_training_certificate_lists_each_training_with_its_kind() -> None:
    reader, text = read(render_certificate(training(), translator("zh_CN")))
    assert len(reader.pages) == 1
    assert "科技志愿培训证明" in text and "志愿服务记录证明" not in text
    assert "培训期间" in text and "已确认培训时长合计" in text and "5.5 小时" in text
    assert "科技志愿者通用培训" in text and "通用培训" in text
    assert "场馆讲解岗位培训" in text and "岗位培训" in text
    assert "CVST 2-7.4" in text and "CVST 4-5.5" not in text
    assert "STVS-2026-7K3QX9M2" in text and URL in text
    assert reader.metadata is not None and reader.metadata.subject == "科技志愿培训证明"


def test_training_certificate_in_english() -> None:
    _, text = read(render_certificate(training(), translator("en")))
    assert "Science and Technology Volunteer Training Certificate" in text
    assert "Position training" in text and "General training" in text
    assert "5.5 hours" in text


def test_training_certificate_renders_the_same_bytes_again() -> None:
    t = translator("zh_CN")
    assert render_certificate(training(), t) == render_certificate(training(), t)
    assert render_certificate(training(), t) != render_certificate(snapshot(), t)


def test_snapshots_read_back_as_written_and_earlier_ones_as_service() -> None:
    service = snapshot()
    assert "kind" not in service.as_json()  # a service snapshot is written as before trainings existed
    assert all("kind" not in line for line in service.as_json()["lines"])
    assert CertificateSnapshot.from_json(service.as_json()) == service
    written = training().as_json()
    assert written["kind"] == "training" and written["lines"][1]["kind"] == "post"
    assert CertificateSnapshot.from_json(written) == training()
