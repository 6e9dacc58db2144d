"""incidents: CAD calls for service, incidents, their timelines and docked cameras

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database
from rtcc.core.types import JSONDocument

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cad_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=100), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('received_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('units', JSONDocument, nullable=False),
    sa.Column('extra', JSONDocument, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_cad_calls_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cad_calls')),
    sa.UniqueConstraint('call_id', name=op.f('uq_cad_calls_call_id'))
    )
    with op.batch_alter_table('cad_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cad_calls_agency_id'), ['agency_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.String(length=100), nullable=True),
    sa.Column('footage_request_candidates', JSONDocument, nullable=False),
    sa.Column('opened_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_incidents_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('call_id', name=op.f('uq_incidents_call_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_incidents_status_opened', ['status', 'opened_at'], unique=False)

    op.create_table('incident_timeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('data', JSONDocument, nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_timeline_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_timeline'))
    )
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_timeline_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_cameras',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('camera_name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('sees_location', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_cameras_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'camera_id', name=op.f('pk_incident_cameras'))
    )


def downgrade() -> None:
    op.drop_table('incident_cameras')
    with op.batch_alter_table('incident_timeline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_timeline_incident_id'))
    op.drop_table('incident_timeline')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_status_opened')
        batch_op.drop_index(batch_op.f('ix_incidents_agency_id'))
    op.drop_table('incidents')
    with op.batch_alter_table('cad_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cad_calls_agency_id'))
    op.drop_table('cad_calls')
