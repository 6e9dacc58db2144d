"""plate alerts: the priority travels with the alert

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

The console took an alert's priority from the hotlist it came from, which it fetched only for people
who may read hotlists: a field officer saw a P1 stolen-vehicle hit as P3, in yellow, without sound.
The alert now keeps the hotlist's priority from when it was raised; existing alerts take their
hotlist's current priority.
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('plate_alerts', sa.Column('priority', sa.Integer(), nullable=True))
    op.execute("UPDATE plate_alerts SET priority = (SELECT priority FROM hotlists WHERE hotlists.id = plate_alerts.hotlist_id)")
    # An alert whose hotlist is gone (hotlist_id has no foreign key) is treated as the most urgent, never the least.
    op.execute("UPDATE plate_alerts SET priority = 1 WHERE priority IS NULL")
    with op.batch_alter_table('plate_alerts') as batch:
        batch.alter_column('priority', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    # Both engines drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE plate_alerts DROP COLUMN priority")
