"""The migrations build exactly the schema the models describe, on both engines."""

import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rtcc.core.migrate import current_revision, upgrade_database
from rtcc.core.models_registry import metadata


# Made by migration 0007 on PostgreSQL only (an operator class SQLite has no use for), dropped again by 0010;
# 0014's pg_trgm index on seen_plates, PostgreSQL only (and only where the extension could be created).
ENGINE_SPECIFIC_INDEXES = {"ix_plate_reads_plate_pattern", "ix_seen_plates_plate_trigram"}
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

    from rtcc.settings import Settings
    from rtcc.core.database import Database

    database = Database(Settings(data_dir=tmp_path))
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    database.dispose()


def test_cameras_in_the_alpr_group_keep_reading_plates_after_0015(runtime):
    """Before 0015 the "alpr" group switched plate reading on; those cameras get reads_plates, the others do not."""
    from alembic import command
    from sqlalchemy import MetaData, Table, select

    from rtcc.core import clock
    from rtcc.core.migrate import alembic_config

    engine = runtime.database.engine
    command.downgrade(alembic_config(engine), "0014")
    cameras = Table("cameras", MetaData(), autoload_with=engine)
    agencies = Table("agencies", MetaData(), autoload_with=engine)
    assert "reads_plates" not in cameras.c
    with engine.begin() as connection:  # one connection: SQLite transactions here take the write lock up front
        agency_id = connection.execute(select(agencies.c.id)).scalars().first()
        for name, groups in (("reads", ["alpr", "downtown"]), ("looks like it", ["alpr-east"]), ("plain", [])):
            connection.execute(cameras.insert().values(
                name=name, kind="city_fixed", agency_id=agency_id, groups=groups, latitude=34.0, longitude=-118.0,
                mounting_height_m=4.0, heading_deg=0.0, fov_deg=60.0, range_m=80.0, rtsp_transport="tcp",
                record_mode="continuous", retention_class="standard", privacy_masks=[], status="unknown",
                created_at=clock.utcnow()))
    upgrade_database(engine)
    cameras = Table("cameras", MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        assert dict(connection.execute(select(cameras.c.name, cameras.c.reads_plates)).all()) == {
            "reads": True, "looks like it": False, "plain": False}
