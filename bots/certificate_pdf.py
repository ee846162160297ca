"""The service-record certificate (志愿服务记录证明, CVST 4-5.5) and the training certificate (科技志愿培训证明,
2-7.4) as a PDF: A4, flowing onto more pages when the record is long, with a QR code to the verify page.
Same snapshot, same bytes."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from html import escape
from io import BytesIO
from typing import Any

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bots.verify_page import KEYS, format_day, format_hours, format_period, training_kind
from core.domain.certificate import CertificateKind, CertificateSnapshot

Translate = Callable[..., str]

# Built into every PDF reader's Asian font set and into reportlab: nothing to download or embed.
FONT = "STSong-Light"
_HAN = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_MARGIN = 18 * mm
_QR_SIZE = 32 * mm


@cache
def _register_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=15)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=10, alignment=TA_CENTER),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=12, leading=18, spaceBefore=6, spaceAfter=4
        ),
        "body": base,
        # Chinese has no spaces between words: wrap between any two characters.
        "body_cjk": ParagraphStyle("body_cjk", parent=base, wordWrap="CJK"),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "cell_cjk": ParagraphStyle("cell_cjk", parent=base, fontSize=9.5, leading=13, wordWrap="CJK"),
        "cell_right": ParagraphStyle("cell_right", parent=base, fontSize=9.5, leading=13, alignment=TA_RIGHT),
        "label": ParagraphStyle("label", parent=base, textColor=colors.HexColor("#444444")),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, alignment=TA_CENTER),
    }


def _para(text: str, style: str = "body", *, link: str | None = None) -> Paragraph:
    """Values are escaped: a title holding < or & is text, not markup."""
    styles = _styles()
    if _HAN.search(text) and f"{style}_cjk" in styles:
        style = f"{style}_cjk"
    markup = escape(text, quote=False)
    if link is not None:
        markup = f'<link href="{escape(link)}">{markup}</link>'
    return Paragraph(markup, styles[style])


def _qr_image(url: str) -> Image:
    """4-5.5: verifiable by a third party, who scans this to reach /verify/<number>."""
    buffer = BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=4)
    buffer.seek(0)
    return Image(buffer, width=_QR_SIZE, height=_QR_SIZE)


def _summary(snapshot: CertificateSnapshot, t: Translate, width: float) -> Table:
    keys = KEYS[snapshot.kind]
    rows: list[tuple[str, str]] = [
        (t("certificate.name"), snapshot.volunteer_name),
        (t("certificate.id_number"), snapshot.masked_id_number),
        (t("certificate.volunteer_number"), snapshot.volunteer_number),
        (t(keys["period"]), format_period(snapshot, t)),
        (
            t(keys["total"]),
            t("certificate.hours_value", hours=format_hours(snapshot.total_hours)),
        ),
    ]
    # The masked ID number only, and no row at all when none is on record.
    cells = [[_para(label, "label"), _para(value)] for label, value in rows if value]
    info = Table(cells, colWidths=[40 * mm, width - _QR_SIZE - 46 * mm])
    info.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    outer = Table(
        [[info, _qr_image(snapshot.verify_url)]], colWidths=[width - _QR_SIZE - 6 * mm, _QR_SIZE + 6 * mm]
    )
    outer.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return outer


def _grid() -> TableStyle:
    """The lines' table: ruled, with a grey head row."""
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )


def _lines(snapshot: CertificateSnapshot, t: Translate, width: float) -> Flowable:
    if not snapshot.lines:
        return _para(t("certificate.no_hours"))
    if snapshot.kind is CertificateKind.TRAINING:
        return _training_lines(snapshot, t, width)
    header = [
        _para(t("certificate.column.date"), "cell"),
        _para(t("certificate.column.activity"), "cell"),
        _para(t("certificate.column.org"), "cell"),
        _para(t("certificate.column.hours"), "cell_right"),
    ]
    rows: list[list[Any]] = [header]
    for line in snapshot.lines:
        rows.append(
            [
                _para(line.day.isoformat(), "cell"),
                _para(line.activity_title, "cell"),
                _para(line.org_name, "cell"),
                _para(format_hours(line.hours), "cell_right"),
            ]
        )
    fixed = 26 * mm + 48 * mm + 28 * mm
    # repeatRows: a record that runs onto page 2 keeps its column heads.
    table = Table(rows, colWidths=[26 * mm, width - fixed, 48 * mm, 28 * mm], repeatRows=1)
    table.setStyle(_grid())
    return table


def _training_lines(snapshot: CertificateSnapshot, t: Translate, width: float) -> Flowable:
    """2-7.4: each training with its kind (3-6.2.1: general, professional, post; 4-5.1.3: safety)."""
    header = [
        _para(t("certificate.column.date"), "cell"),
        _para(t("trainings.certificate.column.training"), "cell"),
        _para(t("trainings.certificate.column.kind"), "cell"),
        _para(t("certificate.column.org"), "cell"),
        _para(t("certificate.column.hours"), "cell_right"),
    ]
    rows: list[list[Any]] = [header]
    for line in snapshot.lines:
        rows.append(
            [
                _para(line.day.isoformat(), "cell"),
                _para(line.activity_title, "cell"),
                _para(training_kind(line.kind, t), "cell"),
                _para(line.org_name, "cell"),
                _para(format_hours(line.hours), "cell_right"),
            ]
        )
    fixed = 26 * mm + 26 * mm + 42 * mm + 24 * mm
    table = Table(rows, colWidths=[26 * mm, width - fixed, 26 * mm, 42 * mm, 24 * mm], repeatRows=1)
    table.setStyle(_grid())
    return table


def render_certificate(snapshot: CertificateSnapshot, t: Translate) -> bytes:
    """One A4 page for a short record; the table flows onto more pages for a long one."""
    font = _register_font()
    keys = KEYS[snapshot.kind]
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 6 * mm,
        title=snapshot.number,
        subject=t(keys["title"]),
        author=snapshot.issuer,
        creator="stvs-bot",
        # The snapshot is fixed when issued: rendering it again gives the same bytes.
        invariant=1,
    )
    width = doc.width - 12  # the frame keeps 6 pt of padding on each side

    def line(label_key: str, value: str) -> str:
        return t("certificate.labelled", label=t(label_key), value=value)

    story: list[Flowable] = [
        _para(t(keys["title"]), "title"),
        _para(line("certificate.number", snapshot.number), "subtitle"),
        Spacer(1, 8 * mm),
        _summary(snapshot, t, width),
        Spacer(1, 4 * mm),
        _para(t(keys["lines"]), "heading"),
        _lines(snapshot, t, width),
        Spacer(1, 6 * mm),
        # 4-5.5: free, on request, verifiable; the signature block stays in one piece.
        KeepTogether(
            [
                _para(t(keys["statement"])),
                Spacer(1, 2 * mm),
                _para(line("certificate.verify_at", snapshot.verify_url), link=snapshot.verify_url),
                Spacer(1, 8 * mm),
                _para(line("certificate.issuer", snapshot.issuer), "right"),
                _para(line("certificate.issued_on", format_day(snapshot.issued_on, t)), "right"),
            ]
        ),
    ]

    def footer(canvas: Any, document: Any) -> None:
        # Loose pages of a long record still say which certificate they belong to.
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawCentredString(
            A4[0] / 2, 12 * mm, t("certificate.page", number=snapshot.number, page=document.page)
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
