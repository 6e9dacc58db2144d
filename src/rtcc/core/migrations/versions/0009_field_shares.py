"""field shares: snapshots, clips and live links sent to field officers behind single-use tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('field_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('camera_name', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('sender_username', sa.String(length=64), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=False),
    sa.Column('recipient_username', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('starts_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('media_path', sa.String(length=300), nullable=True),
    sa.Column('media_type', sa.String(length=32), nullable=True),
    sa.Column('media_sha256', sa.String(length=64), nullable=True),
    sa.Column('media_bytes', sa.BigInteger(), nullable=True),
    sa.Column('media_deleted_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('redeemed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('open_count', sa.Integer(), nullable=False),
    sa.Column('last_opened_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_field_shares_agency_id_agencies')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_field_shares_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['users.id'], name=op.f('fk_field_shares_recipient_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_shares')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_field_shares_token_hash'))
    )
    with op.batch_alter_table('field_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_shares_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_shares_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_shares_recipient_user_id'), ['recipient_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_shares_sender_username'), ['sender_username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('field_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_shares_sender_username'))
        batch_op.drop_index(batch_op.f('ix_field_shares_recipient_user_id'))
        batch_op.drop_index(batch_op.f('ix_field_shares_expires_at'))
        batch_op.drop_index(batch_op.f('ix_field_shares_agency_id'))
    op.drop_table('field_shares')
