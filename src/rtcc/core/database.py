"""The system of record: one SQLAlchemy engine for SQLite (WAL) or PostgreSQL, sessions, migrations."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from rtcc.core.config import CoreSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
# SQLite's primary result codes for "another connection holds the lock" (extended codes keep them in the low byte).
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
# PostgreSQL SQLSTATEs worth another try: serialization failure, deadlock, lock not available, server restarting.
RETRYABLE_SQLSTATES = ("40001", "40P01", "55P03", "57P01", "57P03")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names are stable across engines."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use rtcc.core.clock.utcnow()")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def create_database_engine(settings: CoreSettings, *, read_only: bool = False) -> Engine:
    """An engine for the configured URL; SQLite gets WAL, foreign keys and immediate transactions.

    `read_only` SQLite engines begin deferred transactions: WAL gives them a snapshot without
    taking the write lock, so long reads (audit verify, exports) never block writers.
    """
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_ms / 1000},
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms, begin="BEGIN" if read_only else "BEGIN IMMEDIATE")
        return engine
    return create_engine(
        url, pool_size=settings.database_pool_size, pool_pre_ping=True, max_overflow=settings.database_pool_size
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, begin: str = "BEGIN IMMEDIATE") -> None:
    # pysqlite's own transaction handling begins lazily and deferred; a deferred transaction that
    # reads and later writes fails with SQLITE_BUSY when another writer got in between (the audit
    # chain reads its head then appends). BEGIN IMMEDIATE takes the write lock up front and waits
    # for it, which serialises writers cleanly, as Rails 8 does for SQLite.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # Plates are stored upper case: a case-sensitive LIKE lets 'ABC%' use the plate index.
        cursor.execute("PRAGMA case_sensitive_like=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(begin)


def is_busy_error(error: BaseException) -> bool:
    """Whether a database error is contention or a passing outage that the same write may survive on another try."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
    else:  # a driver's own error, raised bare where SQLAlchemy is bypassed (the plate-read COPY)
        original = error
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate:
        return sqlstate in RETRYABLE_SQLSTATES or sqlstate.startswith("08")  # 08: the connection failed
    return isinstance(error, DBAPIError) and "database is locked" in str(original)


def busy_cause(error: BaseException) -> BaseException | None:
    """The busy-database error behind `error`, if any (audit wraps its own as AuditUnavailable)."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if is_busy_error(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class WriteHealth:
    """What background writers met: retries, writes given up (items kept), items waiting; shown in health."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retries = 0
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.pending: dict[str, int] = {}
        self.reports: dict[str, dict] = {}

    def note_retry(self, what: str, error: BaseException) -> None:
        with self._lock:
            self.retries += 1
            self._remember(what, error)

    def note_failure(self, what: str, error: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self._remember(what, error)

    def set_pending(self, kind: str, count: int) -> None:
        """How many items of a kind (segments, plate reads...) wait for the database to take them."""
        with self._lock:
            if count:
                self.pending[kind] = count
            else:
                self.pending.pop(kind, None)

    def set_report(self, name: str, report: dict) -> None:
        """What a recovery pass found (the recording salvage on start), kept for health."""
        with self._lock:
            self.reports[name] = report

    def counts(self) -> dict:
        """The figures without error text or file names, for the unauthenticated /healthz."""
        with self._lock:
            return {"retries": self.retries, "failures": self.failures, "pending": dict(self.pending),
                    **{name: {key: value for key, value in report.items() if isinstance(value, int)}
                       for name, report in self.reports.items()}}

    def as_dict(self) -> dict:
        """Everything, last error included, for administrators (/api/v1/system/status)."""
        with self._lock:
            return {"retries": self.retries, "failures": self.failures, "pending": dict(self.pending),
                    **{name: dict(report) for name, report in self.reports.items()},
                    "last_error": self.last_error,
                    "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None}

    def _remember(self, what: str, error: BaseException) -> None:
        original = getattr(error, "orig", None) or error
        self.last_error = f"{what}: {type(original).__name__}: {str(original).splitlines()[0][:200] if str(original) else ''}"
        self.last_error_at = datetime.now(timezone.utc)


def run_write(database: "Database", write: Callable[[Session], T], *, what: str) -> T:
    """Run `write` in a transaction of its own; while the database is busy, again after a growing pause.

    The one home of the retry rule for writers that have no client to resend (segment index, plate reads from
    video, CAD files). After database_write_attempts tries the error is raised: the caller keeps the item.
    """
    settings = database.settings
    attempts = settings.database_write_attempts
    pause_s = 0.05
    for attempt in range(1, attempts + 1):
        try:
            with database.session() as session:
                return write(session)
        except Exception as error:
            cause = busy_cause(error)
            if cause is None:
                raise
            if attempt == attempts:
                database.write_health.note_failure(what, cause)
                raise
            database.write_health.note_retry(what, cause)
            log.warning("%s: database busy (%s), try %d of %d", what, type(cause).__name__, attempt, attempts)
            # Jitter, so writers that met the same lock do not all come back at the same moment.
            time.sleep(min(pause_s, settings.database_write_backoff_max_ms / 1000) * random.uniform(0.5, 1.0))
            pause_s *= 2
    raise AssertionError("unreachable")


class Database:
    """The engine and session factory of one process."""

    def __init__(self, settings: CoreSettings):
        self.settings = settings
        self.write_health = WriteHealth()
        self.engine = create_database_engine(settings)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = (
            create_database_engine(settings, read_only=True) if self.engine.dialect.name == "sqlite" else self.engine
        )
        self.read_session_factory = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: never takes SQLite's write lock; always rolled back."""
        session = self.read_session_factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def check(self) -> tuple[bool, str]:
        """Whether the database answers, and what went wrong if not (for /healthz)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                connection.rollback()
            return True, "ok"
        except Exception as error:  # health reporting must never raise
            return False, type(error).__name__

    def upgrade(self) -> None:
        """Apply every pending migration."""
        from rtcc.core.migrate import upgrade_database

        upgrade_database(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()
