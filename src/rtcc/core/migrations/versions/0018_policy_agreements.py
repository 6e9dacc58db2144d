"""policy: agencies' kind and state, sharing agreements, policies, purposes, decisions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import rtcc.core.database  # noqa: F401

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the change that adds these tables


def downgrade() -> None:
    pass
