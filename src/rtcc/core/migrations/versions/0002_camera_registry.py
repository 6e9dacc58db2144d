"""camera registry: streams, credentials, masks, import keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import rtcc.core.database
from rtcc.core.types import JSONDocument

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('owner_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('main_stream_url', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('sub_stream_url', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('stream_credentials_encrypted', sa.Text(), nullable=True))
        # Server defaults fill the rows that exist already; the application always sets these.
        batch_op.add_column(sa.Column('record_mode', sa.String(length=16), nullable=False, server_default='continuous'))
        batch_op.add_column(sa.Column('retention_class', sa.String(length=32), nullable=False, server_default='standard'))
        batch_op.add_column(sa.Column('privacy_masks', JSONDocument, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('updated_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_cameras_agency_external_id', ['agency_id', 'external_id'])
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.alter_column('record_mode', server_default=None)
        batch_op.alter_column('retention_class', server_default=None)
        batch_op.alter_column('privacy_masks', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cameras_agency_external_id', type_='unique')
        for column in ('updated_at', 'privacy_masks', 'retention_class', 'record_mode', 'stream_credentials_encrypted',
                       'sub_stream_url', 'main_stream_url', 'owner_name', 'external_id'):
            batch_op.drop_column(column)
