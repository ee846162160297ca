"""Users and what belongs to them: channel identities, role grants, consents, link codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.exc import IntegrityError

from core.domain.codes import Channel
from core.domain.dialog import DialogState
from core.domain.linking import LinkCode
from core.domain.people import ChannelIdentity, Consent, ConsentKind, RoleGrant, User
from core.errors import RaceLost
from core.ports import Caller
from storage.prepared import Prepared
from storage.repositories.base import _Repository
from storage.tables import channel_identities, consents, dialogs, link_codes, role_grants, users, volunteers

# Read on every turn: the user, their dialog, whether they volunteer (and are active) and whether
# they hold any role, in one statement of plain values.
_CALLER = Prepared(
    select(
        users.c.id,
        users.c.language,
        dialogs.c.updated_at,
        dialogs.c.flow,
        dialogs.c.step,
        dialogs.c.data,
        dialogs.c.offered,
        volunteers.c.id,
        volunteers.c.status,
        exists()
        .where(role_grants.c.user_id == users.c.id, role_grants.c.revoked_at.is_(None))
        .label("has_roles"),
        channel_identities.c.unreachable_at,
    )
    .select_from(channel_identities)
    .join(users, users.c.id == channel_identities.c.user_id)
    .join(dialogs, dialogs.c.user_id == users.c.id)
    .outerjoin(volunteers, volunteers.c.user_id == users.c.id)
    .where(
        channel_identities.c.channel == bindparam("channel"),
        channel_identities.c.external_id == bindparam("external_id"),
    )
    .limit(1)
    # The dialog's row, as DialogRepository.for_user locks it (PostgreSQL; SQLite serialises anyway).
    .with_for_update(of=dialogs)
)


class UserRepository(_Repository[User]):
    model = User

    async def caller(self, channel: Channel, external_id: str) -> Caller | None:
        row = await _CALLER.first(self.session, {"channel": channel, "external_id": external_id})
        if row is None:
            return None
        user_id, language, updated_at, flow, step, data, offered, volunteer_id, status, has_roles, gone = row
        # The dialog as a plain value, written back by DialogRepository.save: cheaper than the
        # session's unit of work for the one row every turn changes.
        dialog = DialogState(
            user_id=user_id, updated_at=updated_at, flow=flow, step=step, data=data, offered=offered
        )
        return Caller(
            user_id=user_id,
            language=language,
            dialog=dialog,
            volunteer_id=volunteer_id,
            volunteer_status=status,
            has_roles=bool(has_roles),
            unreachable=gone is not None,
        )

    async def languages(self, user_ids: Sequence[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(user_ids), 1000):  # a bounded IN list on any database
            statement = select(users.c.id, users.c.language).where(
                users.c.id.in_(user_ids[start : start + 1000])
            )
            found.update({row[0]: row[1] for row in await self.session.execute(statement)})
        return found

    async def by_identity(self, channel: Channel, external_id: str) -> User | None:
        c = channel_identities.c
        return await self._one(
            select(User)
            .join(channel_identities, c.user_id == users.c.id)
            .where(c.channel == channel, c.external_id == external_id)
        )


class IdentityRepository(_Repository[ChannelIdentity]):
    model = ChannelIdentity

    async def add(self, item: ChannelIdentity) -> ChannelIdentity:
        """An identity is unique: two first messages of one new user at once both try to add it
        (PostgreSQL, side by side), and the later one loses the race."""
        try:
            return await super().add(item)
        except IntegrityError as error:
            raise RaceLost(f"{item.channel}:{item.external_id} was added by another transaction") from error

    async def get(self, channel: Channel, external_id: str) -> ChannelIdentity | None:  # type: ignore[override]
        c = channel_identities.c
        return await self._one(
            select(ChannelIdentity).where(c.channel == channel, c.external_id == external_id)
        )

    async def for_user(self, user_id: int) -> list[ChannelIdentity]:
        c = channel_identities.c
        return await self._all(select(ChannelIdentity).where(c.user_id == user_id).order_by(c.id))

    async def for_users(self, user_ids: Sequence[int]) -> list[ChannelIdentity]:
        c = channel_identities.c
        found: list[ChannelIdentity] = []
        for start in range(0, len(user_ids), 1000):  # a bounded IN list on any database
            statement = select(ChannelIdentity).where(c.user_id.in_(user_ids[start : start + 1000]))
            found += await self._all(statement.order_by(c.id))
        return sorted(found, key=lambda i: i.id or 0)

    async def remove_for_user(self, user_id: int) -> int:
        """PIPL art. 47: the person left; their chat accounts no longer lead to them."""
        result = await self.session.execute(
            channel_identities.delete().where(channel_identities.c.user_id == user_id)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def set_unreachable(self, channel: Channel, external_id: str, at: datetime | None) -> None:
        """``at``: the platform refused delivery for good then; None: the person wrote again."""
        c = channel_identities.c
        await self.session.execute(
            update(channel_identities)
            .where(c.channel == channel, c.external_id == external_id)
            .values(unreachable_at=at)
        )


class GrantRepository(_Repository[RoleGrant]):
    model = RoleGrant

    async def active_for_user(self, user_id: int) -> list[RoleGrant]:
        c = role_grants.c
        return await self._all(
            select(RoleGrant).where(c.user_id == user_id, c.revoked_at.is_(None)).order_by(c.id)
        )

    async def staff_of(self, org_id: int) -> list[RoleGrant]:
        c = role_grants.c
        return await self._all(
            select(RoleGrant).where(c.org_id == org_id, c.revoked_at.is_(None)).order_by(c.id)
        )


class ConsentRepository(_Repository[Consent]):
    model = Consent

    async def active(self, user_id: int, kind: ConsentKind) -> Consent | None:
        t = consents.c
        return await self._one(
            select(Consent)
            .where(t.user_id == user_id, t.kind == kind, t.withdrawn_at.is_(None))
            .order_by(t.id.desc())
        )

    async def for_user(self, user_id: int) -> list[Consent]:
        t = consents.c
        return await self._all(select(Consent).where(t.user_id == user_id).order_by(t.id))


class LinkCodeRepository(_Repository[LinkCode]):
    model = LinkCode

    async def latest_for_update(self, code_hash: str) -> LinkCode | None:
        statement = (
            select(LinkCode)
            .where(link_codes.c.code_hash == code_hash)
            .order_by(link_codes.c.id.desc())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._one(statement)

    async def live_for_user(self, user_id: int, now: datetime) -> list[LinkCode]:
        c = link_codes.c
        return await self._all(
            select(LinkCode)
            .where(c.user_id == user_id, c.used_at.is_(None), c.expires_at > now)
            .order_by(c.id)
        )
