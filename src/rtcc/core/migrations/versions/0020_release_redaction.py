"""governance: public-records releases and their redaction

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database
from rtcc.core.types import JSONDocument

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('release_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_ori', sa.String(length=9), nullable=False),
    sa.Column('records_request_number', sa.String(length=64), nullable=False),
    sa.Column('requester', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('export_id', sa.Integer(), nullable=True),
    sa.Column('source_path', sa.String(length=500), nullable=False),
    sa.Column('original_sha256', sa.String(length=64), nullable=False),
    sa.Column('source_segment_sha256', JSONDocument, nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('fps', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('manual_boxes', JSONDocument, nullable=False),
    sa.Column('redactions', JSONDocument, nullable=True),
    sa.Column('release_path', sa.String(length=500), nullable=True),
    sa.Column('release_sha256', sa.String(length=64), nullable=True),
    sa.Column('release_bytes', sa.BigInteger(), nullable=True),
    sa.Column('render_seconds', sa.Float(), nullable=True),
    sa.Column('render_error', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rendered_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_requests'))
    )
    op.create_index('ix_release_requests_agency_status', 'release_requests', ['agency_ori', 'status'], unique=False)
    op.create_index(op.f('ix_release_requests_records_request_number'), 'release_requests', ['records_request_number'], unique=False)
    op.create_index(op.f('ix_release_requests_requested_at'), 'release_requests', ['requested_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_release_requests_requested_at'), table_name='release_requests')
    op.drop_index(op.f('ix_release_requests_records_request_number'), table_name='release_requests')
    op.drop_index('ix_release_requests_agency_status', table_name='release_requests')
    op.drop_table('release_requests')
