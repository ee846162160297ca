"""The page a third party sees at /verify/<number> (CVST 4-5.5: a certificate is verifiable). It shows
what the certificate says with the name masked, and nothing else personal: no ID number, no phone.
It says which certificate it is: the service record (4-5.5) or the training certificate (2-7.4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from html import escape

from core.domain.attendance import one_decimal
from core.domain.certificate import CertificateKind, CertificateSnapshot
from core.domain.codes import TrainingKind
from core.domain.identity_numbers import mask_name
from locales import DEFAULT_LANGUAGE

Translate = Callable[..., str]

# Inline only: the page must load with no other request (no font, no script, no tracker).
_STYLE = """
body{margin:0;background:#f4f5f7;color:#1f2328;font:16px/1.6 system-ui,-apple-system,"PingFang SC",
"Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:720px;margin:0 auto;padding:24px 16px}
h1{font-size:1.3em;margin:0 0 16px}h2{font-size:1.1em;margin:0 0 8px}
.status{border-radius:8px;padding:16px;margin:0 0 16px;background:#fff;border-left:6px solid #888}
.status strong{font-size:1.4em;display:block}
.valid{border-color:#1a7f37}.valid strong{color:#1a7f37}
.revoked{border-color:#cf222e}.revoked strong{color:#cf222e}
.missing{border-color:#9a6700}.missing strong{color:#9a6700}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border-radius:8px;
padding:16px;margin:0 0 16px}
dt{color:#57606a}dd{margin:0}
table{width:100%;border-collapse:collapse;background:#fff;border-radius:8px;overflow:hidden}
th,td{padding:6px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top}
th{background:#eaeef2;font-weight:600}td.num,th.num{text-align:right;white-space:nowrap}
"""


# What the two certificates word differently: the keys of those texts.
KEYS: dict[CertificateKind, dict[str, str]] = {
    CertificateKind.SERVICE: {
        "title": "certificate.title",
        "period": "certificate.period",
        "total": "certificate.total_hours",
        "lines": "certificate.lines",
        "statement": "certificate.statement",
        "page_title": "certificate.verify.page_title",
        "revoked_note": "certificate.verify.revoked_note",
    },
    CertificateKind.TRAINING: {
        "title": "trainings.certificate.title",
        "period": "trainings.certificate.period",
        "total": "trainings.certificate.total_hours",
        "lines": "trainings.certificate.lines",
        "statement": "trainings.certificate.statement",
        "page_title": "trainings.verify.page_title",
        "revoked_note": "trainings.verify.revoked_note",
    },
}


def format_day(day: date, t: Translate) -> str:
    return t("certificate.date", year=day.year, month=day.month, day=day.day)


def format_hours(hours: Decimal) -> str:
    """2-6.3: one decimal (12.5)."""
    return str(one_decimal(hours))


def format_period(snapshot: CertificateSnapshot, t: Translate) -> str:
    if snapshot.period_start is None or snapshot.period_end is None:
        return t("certificate.no_hours")
    return t(
        "certificate.period_range",
        start=format_day(snapshot.period_start, t),
        end=format_day(snapshot.period_end, t),
    )


def language_of(t: Translate) -> str:
    return str(getattr(t, "language", DEFAULT_LANGUAGE))


def render_verify_page(
    snapshot: CertificateSnapshot | None,
    *,
    revoked_reason: str | None,
    revoked: bool,
    t: Translate,
    language: str | None = None,
    number: str | None = None,
    kind: CertificateKind | None = None,
) -> str:
    """A complete HTML5 page; every value is escaped. `number` is what was asked for (shown when not found);
    `kind` is the certificate's when the snapshot is not shown (revoked)."""
    lang = (language or language_of(t)).replace("_", "-")
    keys = KEYS[snapshot.kind if snapshot is not None else kind or CertificateKind.SERVICE]
    shown_number = snapshot.number if snapshot is not None else (number or "")
    parts: list[str] = []
    if revoked:
        # 4-5.5: a revoked certificate attests nothing, so only the fact and the reason are shown.
        parts.append(_status("revoked", t("certificate.verify.revoked"), t(keys["revoked_note"])))
        rows = [(t("certificate.number"), shown_number)] if shown_number else []
        rows.append((t("certificate.verify.reason"), revoked_reason or t("certificate.verify.no_reason")))
        parts.append(_definitions(rows))
    elif snapshot is None:
        parts.append(
            _status("missing", t("certificate.verify.not_found"), t("certificate.verify.not_found_note"))
        )
        if shown_number:
            parts.append(_definitions([(t("certificate.number"), shown_number)]))
    else:
        parts.append(_status("valid", t("certificate.verify.valid"), t("certificate.verify.valid_note")))
        parts.append(_definitions(_valid_rows(snapshot, t)))
        if snapshot.lines:
            parts.append(_lines_table(snapshot, t))
    title = escape(t(keys["page_title"]))
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Personal data, even masked: kept out of search engines and referrer headers.
        '<meta name="robots" content="noindex, nofollow">\n<meta name="referrer" content="no-referrer">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{title}</h1>\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n"
    )


def _status(kind: str, headline: str, note: str) -> str:
    return f'<section class="status {kind}"><strong>{escape(headline)}</strong>{escape(note)}</section>'


def _definitions(rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows)
    return f"<dl>{items}</dl>"


def _valid_rows(snapshot: CertificateSnapshot, t: Translate) -> list[tuple[str, str]]:
    # 4-5.5 with PIPL minimisation: the masked name only; the ID number is left out even masked.
    keys = KEYS[snapshot.kind]
    return [
        (t("trainings.verify.kind"), t(keys["title"])),
        (t("certificate.number"), snapshot.number),
        (t("certificate.name"), mask_name(snapshot.volunteer_name)),
        (t("certificate.volunteer_number"), snapshot.volunteer_number),
        (t(keys["period"]), format_period(snapshot, t)),
        (
            t(keys["total"]),
            t("certificate.hours_value", hours=format_hours(snapshot.total_hours)),
        ),
        (t("certificate.issuer"), snapshot.issuer),
        (t("certificate.issued_on"), format_day(snapshot.issued_on, t)),
    ]


def _lines_table(snapshot: CertificateSnapshot, t: Translate) -> str:
    training = snapshot.kind is CertificateKind.TRAINING
    activity = t("trainings.certificate.column.training" if training else "certificate.column.activity")
    kind_head = f"<th>{escape(t('trainings.certificate.column.kind'))}</th>" if training else ""
    head = (
        f"<tr><th>{escape(t('certificate.column.date'))}</th><th>{escape(activity)}</th>{kind_head}"
        f"<th>{escape(t('certificate.column.org'))}</th>"
        f'<th class="num">{escape(t("certificate.column.hours"))}</th></tr>'
    )
    body = "".join(
        f"<tr><td>{escape(line.day.isoformat())}</td><td>{escape(line.activity_title)}</td>"
        + (f"<td>{escape(training_kind(line.kind, t))}</td>" if training else "")
        + f'<td>{escape(line.org_name)}</td><td class="num">{escape(format_hours(line.hours))}</td></tr>'
        for line in snapshot.lines
    )
    return (
        f"<h2>{escape(t(KEYS[snapshot.kind]['lines']))}</h2>"
        f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
    )


def training_kind(kind: TrainingKind | None, t: Translate) -> str:
    """3-6.2.1: general, professional, post or safety training, as the language names it."""
    return t(f"code.training_kind.{kind.value}") if kind is not None else ""
