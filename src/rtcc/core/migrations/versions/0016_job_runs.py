"""jobs: last run and outcome of each periodic job

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('domain', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('interval_seconds', sa.Float(), nullable=False),
    sa.Column('last_run_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_outcome', sa.String(length=16), nullable=True),
    sa.Column('last_message', sa.Text(), nullable=True),
    sa.Column('last_duration_ms', sa.Integer(), nullable=True),
    sa.Column('next_run_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('run_count', sa.Integer(), nullable=False),
    sa.Column('failure_count', sa.Integer(), nullable=False),
    sa.Column('scheduled_by', sa.String(length=128), nullable=True),
    sa.Column('updated_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'name', name=op.f('pk_job_runs'))
    )


def downgrade() -> None:
    op.drop_table('job_runs')
