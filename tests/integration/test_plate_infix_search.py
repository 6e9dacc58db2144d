"""An infix search (*CDEF*) finds exactly the plates holding it, on both engines; on PostgreSQL through pg_trgm."""

from __future__ import annotations

import fnmatch
import importlib.util
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from support import TEST_AGENCY

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.alpr.search import PlateQuery, search_reads
from rtcc.core import clock
from rtcc.core import migrate as migrations
from rtcc.core.actor import Actor

# pg_trgm is PostgreSQL's (SQLite scans seen_plates): these run on PostgreSQL only, never skipped.
ON_POSTGRESQL = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)
ANALYST = Actor(via="cli", username="infix", agency_ori=TEST_AGENCY, permissions=frozenset({"alpr.search"}))
# Plates holding CDEF at every position, ones holding its pieces but not it, and unrelated ones.
PLATES = ["CDEF123", "1CDEF23", "12CDEF3", "123CDEF", "XCDEFCD", "CDE1F23", "CD1EF23", "DEFC123", "FEDC123",
          "CDECDEF", "ABC1234", "7XYZ890", "CDDEFF1", "1ACDEF", "ZZCDEZZ", "9DEF9CD"]


def stored(runtime, plates: list[str]) -> None:
    start = clock.utcnow() - timedelta(hours=1)
    reads = [ReadIn(plate=plate, read_at=start + timedelta(seconds=n + repeat * 100), device_id="reader-1",
                    source_read_id=f"{plate}-{repeat}") for repeat in range(2) for n, plate in enumerate(plates)]
    with runtime.database.session() as db:
        report = ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=reads)
    assert report.stored == len(reads)


def found_plates(runtime, pattern: str) -> list[str]:
    with runtime.database.session() as db:
        reads = search_reads(db, runtime=runtime, actor=ANALYST, query=PlateQuery(plate=pattern, mode="wildcard"),
                             purpose="infix search test", case_number="INFIX-1", purpose_category="2400", limit=1000)
    return [read.plate for read in reads]


@pytest.mark.parametrize("pattern", ["*CDEF*", "*CDE?F*", "*DEF*", "*CD*", "*C?E*", "CD*F*", "*EF?3", "*Q*"])
def test_an_infix_search_finds_every_read_of_exactly_the_plates_holding_it(runtime, pattern):
    stored(runtime, PLATES)
    found = found_plates(runtime, pattern)
    expected = {plate for plate in PLATES if fnmatch.fnmatchcase(plate, pattern)}
    assert sorted(found) == sorted([*expected, *expected])  # both reads of each, and nothing else


@ON_POSTGRESQL
def test_on_postgresql_the_infix_match_on_seen_plates_can_use_the_trigram_index(runtime):
    stored(runtime, PLATES)
    with runtime.database.session() as db:
        assert db.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_seen_plates_plate_trigram'")
                          ).scalar_one().endswith("USING gin (plate gin_trgm_ops)")
        db.execute(text("SET LOCAL enable_seqscan = off"))  # a table this small is scanned otherwise
        plan = "\n".join(db.execute(text("EXPLAIN SELECT plate FROM seen_plates WHERE plate LIKE '%CDEF%'")).scalars())
    assert "ix_seen_plates_plate_trigram" in plan


@ON_POSTGRESQL
def test_without_pg_trgm_the_migration_leaves_the_index_out_and_infix_search_still_works(runtime, caplog):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    path = Path(migrations.__file__).parent / "migrations/versions/0014_seen_plates_trigram.py"
    spec = importlib.util.spec_from_file_location("migration_0014", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with runtime.database.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_seen_plates_plate_trigram"))
        connection.execute(text("DROP EXTENSION pg_trgm"))
    with runtime.database.engine.connect() as connection:
        # A read-only transaction refuses CREATE EXTENSION, as a role without CREATE on the database would be.
        connection.execute(text("SET TRANSACTION READ ONLY"))
        with (caplog.at_level(logging.WARNING, logger="rtcc.migrations"),
              Operations.context(MigrationContext.configure(connection))):
            migration.upgrade()
        assert "pg_trgm could not be created" in caplog.text
        assert connection.execute(text("SELECT 1")).scalar_one() == 1  # the upgrade's transaction goes on
        connection.rollback()
    with runtime.database.session() as db:
        assert db.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_seen_plates_plate_trigram'")
                          ).scalar_one() == 0
    stored(runtime, PLATES)
    assert sorted(set(found_plates(runtime, "*CDEF*"))) == sorted(p for p in PLATES if "CDEF" in p)
