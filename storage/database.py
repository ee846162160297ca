"""Engine, sessions and the unit of work, the same code on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from storage import repositories as repos
from storage.loop_session import LoopSession
from storage.matching import MatchingQueries
from storage.statements import SessionStatements, Statements, Transaction
from storage.tables import start_mappers

SQLITE_BUSY_TIMEOUT_MS = 5_000  # another process's write (the CLI); statements run on the loop


def unavailable(error: BaseException) -> bool:
    """The database could not be reached or went away (a restart, a failover, a network cut): worth
    trying again in a moment, unlike a bug or a broken rule."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | ConnectionError | TimeoutError)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """The async engine: every unit of work on PostgreSQL; on SQLite only schema creation and
    migrations, as units of work there go through ``create_loop_engine``. Errors never carry the
    statement's parameters (phones, names): they end up in logs."""
    start_mappers()
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # One writer at a time anyway: queue for a single connection in the pool (cheap, fair) rather than
    # in SQLite's busy handler, which sleeps and retries. busy_timeout still covers other processes.
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 60)
    engine = create_async_engine(url, **kwargs)
    _serialise_sqlite_writers(engine)
    return engine


def create_loop_engine(url: str) -> Engine | None:
    """For an SQLite file: a synchronous engine whose one connection LoopSession runs on. None otherwise."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = parsed.database
    engine = sa_create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(path, check_same_thread=False, isolation_level=None),
        poolclass=StaticPool,  # one connection; the unit of work's lock keeps transactions apart
        hide_parameters=True,
    )
    _serialise_sqlite_writers(engine)
    return engine


def _serialise_sqlite_writers(engine: AsyncEngine | Engine) -> None:
    """SQLite allows one writer. Every transaction starts with BEGIN IMMEDIATE, so a read-then-write
    (count the places, then take one) can never interleave with another writer (SQLAlchemy's
    documented recipe for pysqlite/aiosqlite), and waits rather than fails when the file is busy."""

    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        if isinstance(driver, sqlite3.Connection) and driver.in_transaction:
            return  # begun by a prepared statement (storage.loop_session): the session joins it
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


R = TypeVar("R")


class _repository(Generic[R]):  # noqa: N801 - used as a decorator-like descriptor
    """A repository over the unit of work's session, made on first use and kept for the transaction."""

    def __init__(self, kind: Callable[[Statements], R]) -> None:
        self.kind = kind

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, uow: SqlUnitOfWork, owner: type | None = None) -> R:
        made = self.kind(uow.session)
        uow.__dict__[self.name] = made  # a non-data descriptor: the instance's own copy wins from now on
        return made


class SqlUnitOfWork:
    """core.ports.UnitOfWork: one session, one transaction; rolled back unless committed."""

    session: Transaction

    def __init__(self, sessions: Callable[[], Transaction], lock: asyncio.Lock | None = None) -> None:
        self._sessions = sessions
        self._lock = lock  # SQLite's units of work take turns on the one connection

    async def __aenter__(self) -> Self:
        for name in [n for n in vars(self) if n not in ("_sessions", "_lock")]:
            del self.__dict__[name]  # repositories of an earlier transaction, if entered again
        if self._lock is not None:
            await self._lock.acquire()
        try:
            self.session = self._sessions()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    # Each repository is made when a turn first uses it: most turns use three or four of them.
    users = _repository(repos.UserRepository)
    identities = _repository(repos.IdentityRepository)
    grants = _repository(repos.GrantRepository)
    consents = _repository(repos.ConsentRepository)
    orgs = _repository(repos.OrganizationRepository)
    volunteers = _repository(repos.VolunteerRepository)
    memberships = _repository(repos.MembershipRepository)
    activities = _repository(repos.ActivityRepository)
    signups = _repository(repos.SignupRepository)
    audit = _repository(repos.AuditRepository)
    bases = _repository(repos.BaseRepository)
    projects = _repository(repos.ProjectRepository)
    dialogs = _repository(repos.DialogRepository)
    notices = _repository(repos.NoticeRepository)
    feedback = _repository(repos.FeedbackRepository)
    evaluations = _repository(repos.EvaluationRepository)
    deliveries = _repository(repos.DeliveryLog)
    link_codes = _repository(repos.LinkCodeRepository)
    needs = _repository(repos.NeedRepository)
    surveys = _repository(repos.SurveyRepository)
    attendances = _repository(repos.AttendanceRepository)
    records = _repository(repos.ServiceRecordRepository)
    makeups = _repository(repos.MakeupRepository)
    certificates = _repository(repos.CertificateRepository)
    reports = _repository(repos.ActivityReportRepository)
    ratings = _repository(repos.RatingQueries)
    matching = _repository(MatchingQueries)
    media = _repository(repos.MediaRepository)
    wechat_tokens = _repository(repos.WeChatTokenRepository)
    wechat_windows = _repository(repos.WeChatWindowRepository)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


class Database:
    """What the composition root holds: the engine and a unit-of-work factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self.sessions = session_factory(self.engine)
        self.loop_engine = create_loop_engine(url)
        self._loop_connection: Connection | None = None
        self._lock = asyncio.Lock()

    def uow(self) -> SqlUnitOfWork:
        if self.loop_engine is not None:
            return SqlUnitOfWork(self._loop_session, self._lock)
        return SqlUnitOfWork(lambda: SessionStatements(self.sessions()))

    def _loop_session(self) -> LoopSession:
        """SQLite: the one connection, kept open, for the unit of work that holds the lock."""
        if self._loop_connection is None:
            assert self.loop_engine is not None
            self._loop_connection = self.loop_engine.connect()
        return LoopSession(self._loop_connection)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def create_schema(self) -> None:
        """For tests and the demo; deployments run Alembic (``stvs db upgrade``)."""
        from storage.tables import metadata

        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._loop_connection is not None:
            self._loop_connection.close()
            self._loop_connection = None
        if self.loop_engine is not None:
            self.loop_engine.dispose()
