"""recording marks: event-only cameras keep video around them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import rtcc.core.database

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recording_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('camera_id', sa.Integer(), nullable=False),
        sa.Column('at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_marks')),
    )
    with op.batch_alter_table('recording_marks', schema=None) as batch_op:
        batch_op.create_index('ix_recording_marks_camera_at', ['camera_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recording_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_marks_camera_at')
    op.drop_table('recording_marks')
