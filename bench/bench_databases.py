"""Throw-away databases for benchmarks: a SQLite data dir, and a fresh PostgreSQL database dropped after."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rtcc.settings import Settings

ADMIN_URL = os.environ.get("RTCC_TEST_POSTGRES_URL", "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres")


@contextmanager
def sqlite_settings() -> Iterator[Settings]:
    """Settings for SQLite in a temporary data dir."""
    with tempfile.TemporaryDirectory() as directory:
        yield Settings(data_dir=Path(directory))


@contextmanager
def postgresql_settings() -> Iterator[Settings]:
    """Settings for a new PostgreSQL database (RTCC_TEST_POSTGRES_URL's server), dropped afterwards."""
    name = f"rtcc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory() as directory:
            yield Settings(data_dir=Path(directory),
                           database_url=make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
