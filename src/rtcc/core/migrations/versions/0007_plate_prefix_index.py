"""plate reads: a pattern index so wildcard searches with a literal prefix use an index on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL's default collation cannot serve LIKE 'ABC%' from a plain btree; varchar_pattern_ops can.
    # (SQLite uses the existing plate index, with case_sensitive_like switched on per connection.)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_plate_reads_plate_pattern ON plate_reads (plate varchar_pattern_ops, read_at)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_plate_reads_plate_pattern")
