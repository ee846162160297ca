"""The organizer exports their org's service records or volunteer list as a file (民函〔2012〕340号 data
elements, 4-5.4), one button press per question: what, which org (when they manage several), which
period (records), which format. The answers travel in the buttons' payloads (``ex:r.3.tm.xlsx``), so
nothing waits in the dialog: every press is a whole question answered."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from core.chat.forms import refuse_not_staff, staff_only
from core.chat.messages import Choice, Document
from core.chat.router import Router
from core.chat.turn import LABEL_LIMIT, Turn
from core.domain import actions
from core.domain.actions import OrganizerMenu
from core.domain.organization import Organization, OrgStatus
from core.errors import NotEligible
from core.ports import SheetFormat
from core.services.exports import (
    Export,
    ExportKind,
    Period,
    PeriodName,
    service_record_rows,
    sheet_of,
    volunteer_rows,
)

router = Router()

# A file in chat is built within the turn, which holds the transaction (and on SQLite every writer
# waits): a few seconds at most. openpyxl writes about 1,500 rows a second, CSV fifty times as many.
# More rows are for a shorter period, or for `stvs export`.
CHAT_MAX_ROWS = {SheetFormat.XLSX: 5_000, SheetFormat.CSV: 20_000}
ORG_BUTTONS = 30
KINDS = {"r": ExportKind.RECORDS, "v": ExportKind.VOLUNTEERS}
_KIND_CODES = {kind: code for code, kind in KINDS.items()}
# Records and volunteer lists of an org that was deactivated are kept, and exported, all the same.
_EXPORTABLE = frozenset({OrgStatus.APPROVED, OrgStatus.DEACTIVATED})
MIME = {
    SheetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    SheetFormat.CSV: "text/csv",
}


async def exportable_orgs(turn: Turn) -> list[Organization]:
    """The orgs whose data the actor may export: their own and those below them; every one for an admin."""
    orgs = [o for o in await turn.uow.orgs.list() if o.status in _EXPORTABLE]
    if turn.actor.admin:
        return orgs
    ids = set(turn.actor.staff_of)
    for org_id in turn.actor.staff_of:
        ids.update(await turn.uow.orgs.descendant_ids(org_id))
    return [o for o in orgs if o.id in ids]


@router.button(actions.Export, command="export")
@staff_only
async def export_menu(turn: Turn, pressed: actions.Export) -> None:
    """``ex:<what>.<org>.<period>.<format>``: asks for the first part missing, or sends the file."""
    kind = KINDS.get(pressed.what or "")
    if kind is None:
        _ask_kind(turn)
        return
    orgs = await exportable_orgs(turn)
    if not orgs:
        refuse_not_staff(turn)
        return
    org = _picked_org(orgs, pressed.org_id)
    if org is None:
        _ask_org(turn, kind, orgs)
        return
    # Back to the question before: the org (when there was a choice), else what to export.
    code = _KIND_CODES[kind]
    kind_step = actions.Export(code) if len(orgs) > 1 else actions.Export()
    org_step = actions.Export(code, org.id)
    period_name = PeriodName.ALL if kind is ExportKind.VOLUNTEERS else _picked_period(pressed.period)
    if period_name is None:
        _ask_period(turn, org, org_step, back=kind_step)
        return
    chosen = replace(org_step, period=period_name.value)
    form = _picked_format(pressed.form)
    if form is None:
        back = kind_step if kind is ExportKind.VOLUNTEERS else org_step
        _ask_format(turn, kind, org, chosen, back=back)
        return
    await _send(turn, kind, org, period_name, form, chosen)


def _picked_org(orgs: list[Organization], given: int | None) -> Organization | None:
    if len(orgs) == 1 and given is None:
        return orgs[0]
    return next((o for o in orgs if o.id == given), None)


def _picked_period(given: str | None) -> PeriodName | None:
    return next((name for name in PeriodName if name.value == given), None)


def _picked_format(given: str | None) -> SheetFormat | None:
    return next((form for form in SheetFormat if form.value == given), None)


def _ask_kind(turn: Turn) -> None:
    turn.say(
        "export.ask.what",
        turn.choice("export.what.records", actions.Export("r")),
        turn.choice("export.what.volunteers", actions.Export("v")),
        turn.choice("chat.org.menu_button", OrganizerMenu()),
    )


def _ask_org(turn: Turn, kind: ExportKind, orgs: list[Organization]) -> None:
    code = _KIND_CODES[kind]
    choices = [Choice(o.name[:LABEL_LIMIT], actions.Export(code, o.id).pack()) for o in orgs[:ORG_BUTTONS]]
    text = turn.t("export.ask.org", what=turn.t(f"export.what.{kind.value}"))
    if len(orgs) > ORG_BUTTONS:
        text += "\n" + turn.t("export.ask.org_more", shown=ORG_BUTTONS, count=len(orgs))
    turn.say_text(text, *choices, turn.choice("export.button.back", actions.Export()))


def _ask_period(turn: Turn, org: Organization, base: actions.Export, *, back: actions.Export) -> None:
    turn.say(
        "export.ask.period",
        *(
            turn.choice(f"export.period.{name.value}", replace(base, period=name.value))
            for name in PeriodName
        ),
        turn.choice("export.button.back", back),
        columns=2,
        org=org.name,
    )


def _ask_format(
    turn: Turn, kind: ExportKind, org: Organization, base: actions.Export, *, back: actions.Export
) -> None:
    turn.say(
        "export.ask.format",
        turn.choice("export.format.xlsx", replace(base, form=SheetFormat.XLSX.value)),
        turn.choice("export.format.csv", replace(base, form=SheetFormat.CSV.value)),
        turn.choice("export.button.back", back),
        columns=2,
        what=turn.t(f"export.what.{kind.value}"),
        org=org.name,
    )


async def _send(
    turn: Turn,
    kind: ExportKind,
    org: Organization,
    period_name: PeriodName,
    form: SheetFormat,
    base: actions.Export,
) -> None:
    assert org.id is not None
    again = turn.choice("export.button.again", actions.Export())
    if turn.documents is None:
        turn.say("export.unavailable", again, turn.choice("chat.org.menu_button", OrganizerMenu()))
        return
    today = turn.clock.now().astimezone(ZoneInfo(org.timezone)).date()
    period = Period.named(period_name, today)
    limit = CHAT_MAX_ROWS[form]
    try:
        if kind is ExportKind.RECORDS:
            export = await service_record_rows(
                turn.uow,
                turn.clock,
                turn.actor,
                org.id,
                period,
                limit=limit,
                file_format=form.value,
            )
        else:
            export = await volunteer_rows(
                turn.uow, turn.clock, turn.actor, org.id, limit=limit, file_format=form.value
            )
    except NotEligible as error:  # too many rows: nothing was handed out, nor audited
        turn.refuse(error)
        csv = CHAT_MAX_ROWS[SheetFormat.CSV]
        if form is SheetFormat.XLSX and csv > limit:
            turn.say(
                "export.try_csv",
                turn.choice("export.button.csv_instead", replace(base, form=SheetFormat.CSV.value)),
                again,
                limit=csv,
            )
        else:
            turn.say("export.choose_again", again, turn.choice("chat.org.menu_button", OrganizerMenu()))
        return
    data = turn.documents.spreadsheet(sheet_of(export, turn.t), form)
    filename = f"{kind.value}-{org.id}-{period.slug}.{form.value}"
    turn.replies.append(Document(data, filename, _caption(turn, export), MIME[form]))
    if export.masked:
        turn.say("export.masked_note", count=export.masked)
    turn.say("export.done", again, turn.choice("chat.org.menu_button", OrganizerMenu()))


def _caption(turn: Turn, export: Export) -> str:
    if export.kind is ExportKind.VOLUNTEERS:
        return turn.t(
            "export.caption.volunteers",
            org=export.org_name,
            count=len(export.rows),
            hours=export.confirmed_hours,
        )
    period = export.period
    shown = (
        turn.t("export.period.range", start=period.start or "…", end=period.end or "…")
        if period.start or period.end
        else turn.t("export.period.all_time")
    )
    return turn.t(
        "export.caption.records",
        org=export.org_name,
        period=shown,
        count=len(export.rows),
        confirmed=export.counted,
        hours=export.confirmed_hours,
    )
