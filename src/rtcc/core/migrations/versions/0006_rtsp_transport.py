"""cameras: RTSP transport (tcp or udp)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rtsp_transport', sa.String(length=3), nullable=False, server_default='tcp'))
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.alter_column('rtsp_transport', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_column('rtsp_transport')
