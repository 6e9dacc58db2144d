"""seen plates: every plate with a stored read, for searches that begin with a wildcard

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22

A search like *BC12* can use no index on plate_reads.plate (it is ordered by the plate's first
characters), so it scanned every read: 1.5-2.3 s at 10 million reads. The plates themselves are far
fewer than the reads (each vehicle passes many times): matching the pattern against this list first,
then fetching the reads of the plates found through the plate index, serves it in a fraction of that.
Every wildcard search goes this way (the plate column sorts bytewise on PostgreSQL, so its key serves
prefix patterns too): a list of plates also keeps PostgreSQL's planner from misjudging a rare pattern.
Filled here from the reads already stored; ingest adds new plates, retention removes a plate with its
last read.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seen_plates',
    sa.Column('plate', sa.String(length=16).with_variant(sa.String(length=16, collation='C'), 'postgresql'),
              nullable=False),
    sa.PrimaryKeyConstraint('plate', name=op.f('pk_seen_plates')),
    sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO seen_plates (plate) SELECT DISTINCT plate FROM plate_reads")


def downgrade() -> None:
    op.drop_table('seen_plates')
