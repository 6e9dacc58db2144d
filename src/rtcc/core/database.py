"""The system of record: one SQLAlchemy engine for SQLite (WAL) or PostgreSQL, sessions, migrations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from rtcc.core.config import Settings

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


def create_database_engine(settings: Settings, *, read_only: bool = False) -> Engine:
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


class Database:
    """The engine and session factory of one process."""

    def __init__(self, settings: Settings):
        self.settings = settings
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
