"""plate reads: range-partitioned by read_at on PostgreSQL; idempotency key with read_at; matched-read index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

PostgreSQL: plate_reads becomes a table PARTITION BY RANGE (read_at) with one partition per calendar
month (UTC) and a DEFAULT partition that takes any read no monthly partition covers (a device with a
wrong clock), so no read is ever refused. A partitioned table's unique keys must hold the partition key:
the primary key becomes (id, read_at) (ids still come from the one sequence, so they stay unique) and
the idempotency key becomes (source, source_read_id, read_at). The foreign key plate_alerts.read_id ->
plate_reads.id cannot exist there any more (no unique key on id alone); the code keeps it (alerts are
raised for reads in the same transaction that stores them, and retention never deletes a read behind
an alert). The app creates the coming months' partitions (rtcc.alpr.partitions).

SQLite stays one plain table (id stays the rowid); it gets the same idempotency key and index set, so
both engines behave alike. Its table is rebuilt (SQLite cannot drop a unique constraint), with
plate_alerts set aside and put back around the rebuild, since dropping a referenced table fails with
foreign keys on.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import rtcc.core.database

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3  # partitions made now for this month and the next three (the app keeps it so)
MONTHS_BACK = 24  # older reads than this stay in the DEFAULT partition (retention deletes them row by row)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _partition_postgresql()
    else:
        _rebuild_sqlite(unique=("source", "source_read_id", "read_at"))
        op.create_index("ix_plate_reads_matched", "plate_reads", ["read_at"], sqlite_where=sa.text("matched"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_postgresql()
    else:
        op.drop_index("ix_plate_reads_matched", table_name="plate_reads")
        _rebuild_sqlite(unique=("source", "source_read_id"))


def _month_start(moment: datetime) -> tuple[int, int]:
    return moment.year, moment.month


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def _bound(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-01 00:00:00+00"


def _partition_postgresql() -> None:
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    first = last = _month_start(now)
    last = _add_months(*last, MONTHS_AHEAD)
    oldest = bind.execute(sa.text("SELECT min(read_at) FROM plate_reads")).scalar()
    if oldest is not None:
        first = max(min(first, _month_start(oldest.astimezone(timezone.utc))), _add_months(*first, -MONTHS_BACK))
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('plate_reads', 'id')")).scalar_one()

    op.execute("ALTER TABLE plate_alerts DROP CONSTRAINT IF EXISTS fk_plate_alerts_read_id_plate_reads")
    op.execute("CREATE TABLE plate_reads_partitioned (LIKE plate_reads INCLUDING DEFAULTS) PARTITION BY RANGE (read_at)")
    op.execute("CREATE TABLE plate_reads_default PARTITION OF plate_reads_partitioned DEFAULT")
    month = first
    while month <= last:
        following = _add_months(*month, 1)
        op.execute(f"CREATE TABLE plate_reads_p{month[0]:04d}_{month[1]:02d} PARTITION OF plate_reads_partitioned "
                   f"FOR VALUES FROM ('{_bound(*month)}') TO ('{_bound(*following)}')")
        month = following
    op.execute("INSERT INTO plate_reads_partitioned SELECT * FROM plate_reads")
    op.execute(f"ALTER SEQUENCE {sequence} OWNED BY plate_reads_partitioned.id")
    op.execute("DROP TABLE plate_reads")  # with its indexes, 0007's pattern index among them
    op.execute("ALTER TABLE plate_reads_partitioned RENAME TO plate_reads")
    op.execute("ALTER TABLE plate_reads ADD CONSTRAINT pk_plate_reads PRIMARY KEY (id, read_at)")
    op.execute("ALTER TABLE plate_reads ADD CONSTRAINT uq_plate_reads_source_read UNIQUE (source, source_read_id, read_at)")
    # One plate index serves both = and LIKE 'ABC%' (varchar_pattern_ops): one index fewer to maintain per read.
    op.execute("CREATE INDEX ix_plate_reads_plate_time ON plate_reads (plate varchar_pattern_ops, read_at)")
    op.execute("CREATE INDEX ix_plate_reads_camera_time ON plate_reads (camera_id, read_at)")
    # Reads arrive in time order: a BRIN summary finds a time range for a fraction of a b-tree's upkeep.
    op.execute("CREATE INDEX ix_plate_reads_read_at ON plate_reads USING brin (read_at)")
    op.execute("CREATE INDEX ix_plate_reads_matched ON plate_reads (read_at) WHERE matched")


def _unpartition_postgresql() -> None:
    bind = op.get_bind()
    sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('plate_reads', 'id')")).scalar_one()
    op.execute("CREATE TABLE plate_reads_plain (LIKE plate_reads INCLUDING DEFAULTS)")
    op.execute("ALTER TABLE plate_reads_plain ADD CONSTRAINT pk_plate_reads_plain PRIMARY KEY (id)")
    op.execute("ALTER TABLE plate_reads_plain ADD CONSTRAINT uq_plate_reads_plain UNIQUE (source, source_read_id)")
    # The older key is narrower: of reads that differ only in read_at, the first one stays.
    op.execute("INSERT INTO plate_reads_plain SELECT * FROM plate_reads ORDER BY id ON CONFLICT DO NOTHING")
    op.execute(f"ALTER SEQUENCE {sequence} OWNED BY plate_reads_plain.id")
    op.execute("DROP TABLE plate_reads")  # and every partition
    op.execute("ALTER TABLE plate_reads_plain RENAME TO plate_reads")
    op.execute("ALTER TABLE plate_reads RENAME CONSTRAINT pk_plate_reads_plain TO pk_plate_reads")
    op.execute("ALTER TABLE plate_reads RENAME CONSTRAINT uq_plate_reads_plain TO uq_plate_reads_source_read")
    op.execute("CREATE INDEX ix_plate_reads_plate_time ON plate_reads (plate, read_at)")
    op.execute("CREATE INDEX ix_plate_reads_camera_time ON plate_reads (camera_id, read_at)")
    op.execute("CREATE INDEX ix_plate_reads_read_at ON plate_reads (read_at)")
    op.execute("CREATE INDEX ix_plate_reads_plate_pattern ON plate_reads (plate varchar_pattern_ops, read_at)")
    op.execute("DELETE FROM plate_alerts WHERE read_id NOT IN (SELECT id FROM plate_reads)")
    op.execute("ALTER TABLE plate_alerts ADD CONSTRAINT fk_plate_alerts_read_id_plate_reads "
               "FOREIGN KEY (read_id) REFERENCES plate_reads (id)")


def _plate_read_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('plate', sa.String(length=16), nullable=False),
        sa.Column('plate_raw', sa.String(length=32), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('region', sa.String(length=16), nullable=True),
        sa.Column('camera_id', sa.Integer(), nullable=True),
        sa.Column('device_id', sa.String(length=100), nullable=True),
        sa.Column('read_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('direction', sa.String(length=16), nullable=True),
        sa.Column('crop_path', sa.String(length=500), nullable=True),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('source_read_id', sa.String(length=100), nullable=False),
        sa.Column('matched', sa.Boolean(), nullable=False),
        sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    ]


def _rebuild_sqlite(*, unique: tuple[str, ...]) -> None:
    """Make plate_reads anew with this idempotency key, keeping every row and the alerts that refer to them."""
    bind = op.get_bind()
    # plate_alerts refers to plate_reads: with foreign keys on (they cannot be switched off inside the
    # migration's transaction) the old table cannot be dropped while it is referred to. Set the alerts
    # aside, with the exact SQL of their table and indexes, and put them back after.
    alert_schema = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'plate_alerts' AND sql IS NOT NULL "
        "ORDER BY type = 'table' DESC, name").scalars().all()
    op.execute("CREATE TABLE _plate_alerts_kept AS SELECT * FROM plate_alerts")
    op.execute("DROP TABLE plate_alerts")

    columns = _plate_read_columns()
    names = ", ".join(column.name for column in columns)
    op.create_table('_plate_reads_rebuilt', *columns,
                    sa.PrimaryKeyConstraint('id', name='pk_plate_reads'),
                    sa.UniqueConstraint(*unique, name='uq_plate_reads_source_read'))
    op.execute(f"INSERT OR IGNORE INTO _plate_reads_rebuilt ({names}) SELECT {names} FROM plate_reads ORDER BY id")
    op.execute("DROP TABLE plate_reads")
    op.execute("ALTER TABLE _plate_reads_rebuilt RENAME TO plate_reads")
    op.create_index('ix_plate_reads_camera_time', 'plate_reads', ['camera_id', 'read_at'])
    op.create_index('ix_plate_reads_plate_time', 'plate_reads', ['plate', 'read_at'])
    op.create_index('ix_plate_reads_read_at', 'plate_reads', ['read_at'])

    for statement in alert_schema:
        op.execute(statement)
    op.execute("INSERT INTO plate_alerts SELECT * FROM _plate_alerts_kept WHERE read_id IN (SELECT id FROM plate_reads)")
    op.execute("DROP TABLE _plate_alerts_kept")
