"""hotlist entries: a version raised by every change, so hotlist caches see edits in place

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22

Each process keeps its hotlists in memory and rebuilt them when a fingerprint of the entries (count,
ids, latest dates) changed. An entry updated in place by a re-import (an extract line whose expiry
moved to today because the car was recovered) left that fingerprint as it was, so the stale entry
went on matching. The sum of versions changes with every such update.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('hotlist_entries', sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    # Both engines drop a column in place (SQLite since 3.35); a batch rebuild on SQLite would have to drop
    # the table plate_alerts refers to.
    op.execute("ALTER TABLE hotlist_entries DROP COLUMN version")
