"""seen plates: a trigram index, so an infix search (*CDEF*) reads a few plates, not all of them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

PostgreSQL only. An infix pattern can use no b-tree: it scanned every row of seen_plates (one per
plate, 100 ms at a million reads). A pg_trgm GIN index on seen_plates serves LIKE '%CDEF%' by the
pattern's trigrams, and it is written once per new plate, not once per read as an index on
plate_reads would be. pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may
create it without being a superuser. Where it cannot be created (not installed, or a role without
CREATE on the database) the migration leaves the index out and says so; infix searches then scan
seen_plates as before (docs/plates.md, *Search*). SQLite has no trigram index: nothing to do.
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEX = 'ix_seen_plates_plate_trigram'
log = logging.getLogger("rtcc.migrations")


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != 'postgresql':
        return
    try:
        with connection.begin_nested():  # a failed CREATE EXTENSION must not abort the whole upgrade
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.warning("pg_trgm could not be created (%s); infix plate searches scan seen_plates instead",
                    str(error.orig).strip().splitlines()[0])
        return
    connection.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON seen_plates USING gin (plate gin_trgm_ops)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
