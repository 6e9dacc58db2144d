"""governance: the case register, whose closes start the retention clock "case_closed"

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

UTC = rtcc.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('retention_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=False),
    sa.Column('agency_ori', sa.String(length=16), nullable=True),
    sa.Column('opened_at', UTC, nullable=False),
    sa.Column('closed_at', UTC, nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('close_reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_cases')),
    sa.UniqueConstraint('case_number', name='uq_retention_cases_case_number')
    )


def downgrade() -> None:
    # A policy in force on the case_closed clock would lose what starts it: refused rather than silently reset.
    in_use = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM retention_policies p WHERE p.clock = 'case_closed' AND p.version = "
        "(SELECT max(q.version) FROM retention_policies q WHERE q.data_class = p.data_class)")).scalar()
    if in_use:
        raise RuntimeError(f"{in_use} retention policies in force use the case_closed clock; set another clock first")
    op.drop_table('retention_cases')
