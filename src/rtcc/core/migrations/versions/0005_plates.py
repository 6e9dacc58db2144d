"""plates: reads, hotlists, entries, alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import rtcc.core.database


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plate_reads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('plate_raw', sa.String(length=32), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('region', sa.String(length=16), nullable=True),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=100), nullable=True),
    sa.Column('read_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('direction', sa.String(length=16), nullable=True),
    sa.Column('crop_path', sa.String(length=500), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('source_read_id', sa.String(length=100), nullable=False),
    sa.Column('matched', sa.Boolean(), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plate_reads')),
    sa.UniqueConstraint('source', 'source_read_id', name='uq_plate_reads_source_read')
    )
    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.create_index('ix_plate_reads_camera_time', ['camera_id', 'read_at'], unique=False)
        batch_op.create_index('ix_plate_reads_plate_time', ['plate', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plate_reads_read_at'), ['read_at'], unique=False)

    op.create_table('hotlists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_hotlists_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotlists')),
    sa.UniqueConstraint('name', name=op.f('uq_hotlists_name'))
    )
    op.create_table('hotlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hotlist_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('make', sa.String(length=50), nullable=True),
    sa.Column('model', sa.String(length=50), nullable=True),
    sa.Column('colour', sa.String(length=30), nullable=True),
    sa.Column('entered_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hotlist_id'], ['hotlists.id'], name=op.f('fk_hotlist_entries_hotlist_id_hotlists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotlist_entries')),
    sa.UniqueConstraint('hotlist_id', 'external_id', name='uq_hotlist_entries_list_external')
    )
    with op.batch_alter_table('hotlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotlist_entries_hotlist_id'), ['hotlist_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hotlist_entries_plate'), ['plate'], unique=False)

    op.create_table('plate_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('read_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('hotlist_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('match_method', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('crop_matches_plate', sa.Boolean(), nullable=True),
    sa.Column('vehicle_matches', sa.Boolean(), nullable=True),
    sa.Column('entry_still_active', sa.Boolean(), nullable=True),
    sa.Column('verified_by', sa.String(length=64), nullable=True),
    sa.Column('verified_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disposition', sa.String(length=32), nullable=True),
    sa.Column('disposition_note', sa.Text(), nullable=True),
    sa.Column('disposed_by', sa.String(length=64), nullable=True),
    sa.Column('disposed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['hotlist_entries.id'], name=op.f('fk_plate_alerts_entry_id_hotlist_entries')),
    sa.ForeignKeyConstraint(['read_id'], ['plate_reads.id'], name=op.f('fk_plate_alerts_read_id_plate_reads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plate_alerts'))
    )
    with op.batch_alter_table('plate_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plate_alerts_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plate_alerts_hotlist_id'), ['hotlist_id'], unique=False)
        batch_op.create_index('ix_plate_alerts_plate_camera', ['plate', 'camera_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plate_alerts_read_id'), ['read_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plate_alerts_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plate_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plate_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_plate_alerts_read_id'))
        batch_op.drop_index('ix_plate_alerts_plate_camera')
        batch_op.drop_index(batch_op.f('ix_plate_alerts_hotlist_id'))
        batch_op.drop_index(batch_op.f('ix_plate_alerts_entry_id'))

    op.drop_table('plate_alerts')
    with op.batch_alter_table('hotlist_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotlist_entries_plate'))
        batch_op.drop_index(batch_op.f('ix_hotlist_entries_hotlist_id'))

    op.drop_table('hotlist_entries')
    op.drop_table('hotlists')
    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plate_reads_read_at'))
        batch_op.drop_index('ix_plate_reads_plate_time')
        batch_op.drop_index('ix_plate_reads_camera_time')

    op.drop_table('plate_reads')
