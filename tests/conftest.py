"""Shared fixtures: a runtime on SQLite and on a real PostgreSQL, an app client, signed-in users."""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import os
import sqlite3
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rtcc.auth import service as accounts
from rtcc.core import clock
from rtcc.settings import Settings
from rtcc.core.database import Database
from rtcc.core.migrate import upgrade_database
from rtcc.core.runtime import Runtime, build_runtime
from support import CHEAP_PASSWORD_HASHING, OTHER_AGENCY, TEST_AGENCY, create_person, sign_in

# A role with CREATEDB made by scripts/test-services.sh; works under trust and password auth alike.
POSTGRES_ADMIN_URL = os.environ.get(
    "RTCC_TEST_POSTGRES_URL", "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres"
)
# Production Argon2 (64 MiB, 3 passes) costs each test account several hashes; the suite spent most of its time
# there. Every Settings the tests make, and every server they start, hashes cheaply instead; the production
# parameters are checked once (tests/unit/test_auth_logic.py). setdefault: a run may still ask for others.
for _name, _value in CHEAP_PASSWORD_HASHING.items():
    os.environ.setdefault(_name, _value)


# CPython before 3.11.8 keeps ast.parse's recursion depth in global state (gh-106905): a parse that starts
# while another is under way, in another thread or in a finalizer that runs mid-parse, raises "SystemError:
# AST constructor recursion depth mismatch". Python 3.11's traceback module parses source to draw its ^^^
# markers, so an asyncio transport collected after its loop closed (its __del__ warning is formatted with a
# traceback) while pytest drew a failure's traceback crashed the whole run (INTERNALERROR) and hid the
# failure. Parses here take turns across threads, and no collection (no finalizer) runs inside one.
if sys.version_info < (3, 11, 8):
    _parse_lock = threading.Lock()
    _unguarded_parse = ast.parse

    @functools.wraps(_unguarded_parse)
    def _parse_alone(*args, **kwargs):
        with _parse_lock:
            collecting = gc.isenabled()
            gc.disable()
            try:
                return _unguarded_parse(*args, **kwargs)
            finally:
                if collecting:
                    gc.enable()

    ast.parse = _parse_alone


def _admin_engine():
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template():
    """A migrated template database, cloned for each test (CREATE DATABASE ... TEMPLATE is fast)."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # never skip: a missing server is a failure (run scripts/test-services.sh)
        pytest.fail(f"PostgreSQL is not reachable at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {error}")
    name = f"rtcc_tpl_{uuid.uuid4().hex[:10]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    template_url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    migration_engine = create_engine(template_url)
    upgrade_database(migration_engine)
    migration_engine.dispose()
    yield name
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test: migrating afresh cost every SQLite test 1-2 s (275 tests)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "rtcc.sqlite3"
    database = Database(Settings(data_dir=folder / "data", database_url=f"sqlite:///{path}", recording_enabled=False))
    database.upgrade()
    database.dispose()
    return path


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's own backup: a consistent copy whatever its journal (WAL) still holds."""
    with contextlib.closing(sqlite3.connect(source)) as original, contextlib.closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Every database test runs twice: SQLite in a temp dir, and a fresh PostgreSQL database, both migrated."""
    if request.param == "sqlite":
        path = tmp_path / "rtcc.sqlite3"
        copy_sqlite(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"rtcc_test_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(autouse=True)
def _reset_clock():
    yield
    clock.reset()


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    # Recording is switched on only by the tests about it (it starts ffmpeg for every camera with a URL).
    # Simulated cameras stream on loopback and from files, which production refuses (tests/integration/
    # test_stream_url_policy.py checks the defaults).
    return Settings(data_dir=tmp_path / "data", database_url=database_url, recording_enabled=False,
                    camera_network_allowlist=["127.0.0.0/8"], allow_file_streams=True)


@pytest.fixture
def runtime(settings) -> Runtime:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    with runtime.database.session() as db:
        accounts.ensure_agency(db, runtime=runtime, ori=TEST_AGENCY, name="Test Sheriff")
        accounts.ensure_agency(db, runtime=runtime, ori=OTHER_AGENCY, name="Other Police")
    yield runtime
    runtime.close()


@pytest.fixture
def client(runtime):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    with TestClient(create_app(runtime=runtime), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def signed_in_as(runtime):
    """Factory: a new TestClient signed in as a new account of the given role.

    These clients do not run the app's lifespan (the runtime fixture already migrated), so
    many can share one app; use `client` where the event bus must be running.
    """
    from fastapi.testclient import TestClient

    from rtcc.app import create_app

    app = create_app(runtime=runtime)
    clients = []

    def make(role: str, username: str | None = None, **extra):
        test_client = TestClient(app, base_url="http://testserver")
        clients.append(test_client)
        person = sign_in(test_client, create_person(runtime, username or f"{role.replace('_', '')}{len(clients)}", role, **extra))
        test_client.headers["x-csrf-token"] = person.csrf_token
        return test_client, person

    yield make
    for test_client in clients:
        test_client.close()


@pytest.fixture
def simulated(tmp_path):
    """One live simulated street camera (GStreamer RTSP) whose vehicles carry plates."""
    from rtcc.sim.cameras import MediaDependencyError, SimulatedCameras

    cameras = SimulatedCameras(1, port=0, mode="live", cache_dir=tmp_path / "sim")
    try:
        cameras.start()
    except MediaDependencyError as error:  # never a skip: the fix is in the message
        pytest.fail(f"GStreamer for the simulated cameras is missing; run scripts/media-deps.sh as root.\n{error}")
    yield cameras
    cameras.stop()
