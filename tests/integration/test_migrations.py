"""The migrations build exactly the schema the models describe, on both engines."""

import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rtcc.core.migrate import current_revision, upgrade_database
from rtcc.core.models_registry import metadata


# Made by migration 0007 on PostgreSQL only (an operator class SQLite has no use for), dropped again by 0010.
ENGINE_SPECIFIC_INDEXES = {"ix_plate_reads_plate_pattern"}
# Migration 0010, PostgreSQL only: plate_reads' partitions (monthly, default, detached for purging) with the
# indexes they inherit, and no foreign key plate_alerts.read_id -> plate_reads.id (a partitioned table has
# no unique key on id alone; the code keeps that link, see docs/plates.md).
PLATE_READ_PARTITION = re.compile(r"^plate_reads_(p\d{4}_\d{2}|default|expired_\w+)$")
POSTGRESQL_DROPPED_FOREIGN_KEYS = {"fk_plate_alerts_read_id_plate_reads"}


def _modelled_on(dialect: str):
    def _modelled(object_, name, type_, reflected, compare_to):
        if type_ == "table" and PLATE_READ_PARTITION.match(name or ""):
            return False
        if type_ == "index" and PLATE_READ_PARTITION.match(object_.table.name):
            return False
        if type_ == "foreign_key_constraint" and dialect == "postgresql" and name in POSTGRESQL_DROPPED_FOREIGN_KEYS:
            return False
        return not (type_ == "index" and name in ENGINE_SPECIFIC_INDEXES)
    return _modelled


def test_migrations_match_the_models(runtime):
    with runtime.database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_object": _modelled_on(connection.dialect.name)})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(runtime):
    before = current_revision(runtime.database.engine)
    upgrade_database(runtime.database.engine)
    assert current_revision(runtime.database.engine) == before is not None


def test_sqlite_runs_in_wal_mode(tmp_path):
    from sqlalchemy import text

    from rtcc.core.config import Settings
    from rtcc.core.database import Database

    database = Database(Settings(data_dir=tmp_path))
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    database.dispose()
