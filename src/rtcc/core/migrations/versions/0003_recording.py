"""recording: segments index, legal holds, evidence exports, deletion receipts, camera status

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import rtcc.core.database
from rtcc.core.types import JSONDocument

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deletion_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('range_start', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('range_end', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('segment_count', sa.Integer(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deletion_receipts'))
    )
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deletion_receipts_camera_id'), ['camera_id'], unique=False)

    op.create_table('evidence_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('source_segments', JSONDocument, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_exports'))
    )
    with op.batch_alter_table('evidence_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_exports_camera_id'), ['camera_id'], unique=False)

    op.create_table('legal_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_number', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_holds'))
    )
    op.create_table('recording_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('started_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_segments'))
    )
    with op.batch_alter_table('recording_segments', schema=None) as batch_op:
        batch_op.create_index('ix_recording_segments_camera_start', ['camera_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_segments_ended_at'), ['ended_at'], unique=False)

    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_detail', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_detail')
        batch_op.drop_column('retention_days')

    with op.batch_alter_table('recording_segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_segments_ended_at'))
        batch_op.drop_index('ix_recording_segments_camera_start')

    op.drop_table('recording_segments')
    op.drop_table('legal_holds')
    with op.batch_alter_table('evidence_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_exports_camera_id'))

    op.drop_table('evidence_exports')
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deletion_receipts_camera_id'))

    op.drop_table('deletion_receipts')
