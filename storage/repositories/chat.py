"""What the channels keep between turns: dialogs, delivered updates, served files, WeChat's token
and customer-service windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from core.domain.codes import Channel
from core.domain.dialog import DialogState
from core.errors import RaceLost
from storage.prepared import Prepared
from storage.repositories.base import _insert_once, _upsert
from storage.statements import Statements
from storage.tables import deliveries, dialogs, media, wechat_tokens, wechat_windows

_SAVE_DIALOG = Prepared(
    update(dialogs)
    .where(dialogs.c.user_id == bindparam("b_user_id"))
    .values(
        updated_at=bindparam("b_updated_at"),
        flow=bindparam("b_flow"),
        step=bindparam("b_step"),
        data=bindparam("b_data"),
        offered=bindparam("b_offered"),
    )
)


_DIALOG_OF = Prepared(
    select(dialogs.c.updated_at, dialogs.c.flow, dialogs.c.step, dialogs.c.data, dialogs.c.offered)
    .where(dialogs.c.user_id == bindparam("user_id"))
    .with_for_update()
)
_NEW_DIALOG = Prepared(
    insert(dialogs).values(
        user_id=bindparam("user_id"),
        updated_at=bindparam("updated_at"),
        flow="",
        step="",
        data=bindparam("data"),
        offered=bindparam("offered"),
    )
)


class DialogRepository:
    """A dialog is a plain value, not an entity of the session: read at the start of a turn, written
    back at its end with one UPDATE (``save``), the one row every turn changes."""

    def __init__(self, session: Statements) -> None:
        self.session = session

    async def save(self, state: DialogState) -> None:
        await _SAVE_DIALOG.run(
            self.session,
            {
                "b_user_id": state.user_id,
                "b_updated_at": state.updated_at,
                "b_flow": state.flow,
                "b_step": state.step,
                "b_data": state.data,
                "b_offered": state.offered,
            },
        )

    async def for_user(self, user_id: int, now: datetime) -> DialogState:
        """The user's state, created empty on first use; the row is locked for this turn on PostgreSQL."""
        row = await _DIALOG_OF.first(self.session, {"user_id": user_id})
        if row is None:
            try:
                await _NEW_DIALOG.run(
                    self.session, {"user_id": user_id, "updated_at": now, "data": {}, "offered": []}
                )
            except IntegrityError as error:
                # Two first turns of one person at once (two deliveries side by side): the later one
                # runs again and reads the winner's row.
                raise RaceLost(f"the dialog of user {user_id} was added by another transaction") from error
            return DialogState(user_id=user_id, updated_at=now)
        updated_at, flow, step, data, offered = row
        return DialogState(
            user_id=user_id, updated_at=updated_at, flow=flow, step=step, data=data, offered=offered
        )


class DeliveryLog:
    def __init__(self, session: Statements) -> None:
        self.session = session

    async def first_time(self, channel: Channel, key: str, now: datetime) -> bool:
        """One statement on both databases: INSERT … ON CONFLICT DO NOTHING. A concurrent twin waits on
        the key (PostgreSQL) or on the write lock (SQLite) and then inserts nothing."""
        statement = _FIRST_DELIVERY[self.session.dialect_name]
        return bool(
            await statement.run(self.session, {"channel": str(channel), "key": key, "handled_at": now})
        )


_FIRST_DELIVERY = _insert_once(deliveries, ["channel", "key", "handled_at"])


class MediaRepository:
    """Files served at /media/<token> for a while (bots/media.py). Not records of service: an
    expired file is deleted."""

    def __init__(self, session: Statements) -> None:
        self.session = session

    async def put(self, token: str, filename: str, mime: str, data: bytes, expires_at: datetime) -> None:
        await self.session.execute(
            media.insert().values(token=token, filename=filename, mime=mime, data=data, expires_at=expires_at)
        )

    async def get(self, token: str, now: datetime) -> tuple[str, str, bytes] | None:
        """The file's name, type and bytes, while it has not expired."""
        m = media.c
        statement = select(m.filename, m.mime, m.data).where(m.token == token, m.expires_at > now)
        row = (await self.session.execute(statement)).first()
        return (row.filename, row.mime, bytes(row.data)) if row is not None else None

    async def purge(self, now: datetime) -> None:
        await self.session.execute(media.delete().where(media.c.expires_at <= now))


class WeChatTokenRepository:
    """WeChat's access token, one row per app, shared by every instance of the server and the CLI."""

    def __init__(self, session: Statements) -> None:
        self.session = session

    async def get(self, key: str) -> tuple[str, datetime] | None:
        """The token and when it expires."""
        t = wechat_tokens.c
        row = (await self.session.execute(select(t.value, t.expires_at).where(t.key == key))).first()
        return (row.value, row.expires_at) if row is not None else None

    async def put(self, key: str, value: str, expires_at: datetime) -> None:
        await self.session.execute(
            _upsert(self.session, wechat_tokens, ["key"], key=key, value=value, expires_at=expires_at)
        )


class WeChatWindowRepository:
    """Each WeChat user's customer-service window: when their last message opened it, how many sent since."""

    def __init__(self, session: Statements) -> None:
        self.session = session

    async def get(self, openid: str) -> tuple[datetime, int] | None:
        w = wechat_windows.c
        row = (await self.session.execute(select(w.opened_at, w.sent).where(w.openid == openid))).first()
        return (row.opened_at, row.sent) if row is not None else None

    async def open(self, openid: str, now: datetime) -> None:
        await self.session.execute(
            _upsert(self.session, wechat_windows, ["openid"], openid=openid, opened_at=now, sent=0)
        )

    async def take(self, openid: str, opened_after: datetime, limit: int) -> bool:
        """Counts one message against an open window, in one statement (two senders never both take
        the last place); False when the window is closed, used up or was never opened."""
        w = wechat_windows.c
        statement = (
            update(wechat_windows)
            .where(w.openid == openid, w.opened_at > opened_after, w.sent < limit)
            .values(sent=w.sent + 1)
        )
        # An UPDATE's result has a row count; Session.execute is typed as returning any Result.
        result = cast(CursorResult[Any], await self.session.execute(statement))
        return bool(result.rowcount)

    async def close(self, openid: str, limit: int) -> None:
        """WeChat said the window is closed (45015): nothing more goes out until the user writes again."""
        w = wechat_windows.c
        await self.session.execute(update(wechat_windows).where(w.openid == openid).values(sent=limit))
