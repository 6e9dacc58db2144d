"""The migrations build exactly the schema the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rtcc.core.migrate import current_revision, upgrade_database
from rtcc.core.models_registry import metadata


# Made by migration 0007 on PostgreSQL only (an operator class SQLite has no use for), so not in the models.
ENGINE_SPECIFIC_INDEXES = {"ix_plate_reads_plate_pattern"}


def _modelled(object_, name, type_, reflected, compare_to):
    return not (type_ == "index" and name in ENGINE_SPECIFIC_INDEXES)


def test_migrations_match_the_models(runtime):
    with runtime.database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _modelled})
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
