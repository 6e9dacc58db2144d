"""governance: what the admin enters for the annual surveillance report (costs, complaints)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database
from rtcc.core.types import JSONDocument

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transparency_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('complaints_received', sa.Integer(), nullable=False),
    sa.Column('complaints_sustained', sa.Integer(), nullable=False),
    sa.Column('cost_lines', JSONDocument, nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_transparency_years'))
    )


def downgrade() -> None:
    op.drop_table('transparency_years')
