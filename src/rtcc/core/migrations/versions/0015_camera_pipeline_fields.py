"""cameras: reads_plates, the per-camera switch for plate reading from video

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

Plate reading from video used to be switched on by putting a camera in the "alpr" camera group, which
also decides who may see the camera. The switch is now its own field; cameras in that group keep
reading plates (and keep the group, which still scopes them).
"""
import sqlalchemy as sa
from alembic import op

from rtcc.core.types import JSONDocument

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reads_plates', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.alter_column('reads_plates', server_default=None)
    # groups is a JSON list (JSONB on PostgreSQL): decoded here, so both engines answer the same.
    cameras = sa.table('cameras', sa.column('id', sa.Integer), sa.column('groups', JSONDocument),
                       sa.column('reads_plates', sa.Boolean))
    bind = op.get_bind()
    in_alpr_group = [row.id for row in bind.execute(sa.select(cameras.c.id, cameras.c.groups))
                     if "alpr" in (row.groups or [])]
    for start in range(0, len(in_alpr_group), 500):
        bind.execute(cameras.update().where(cameras.c.id.in_(in_alpr_group[start:start + 500]))
                     .values(reads_plates=True))


def downgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_column('reads_plates')
