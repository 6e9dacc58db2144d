"""governance: retention policies per data class, their versions, legal holds, purge receipts

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

legal_holds and deletion_receipts (made by 0003 for video) are extended in place, so every hold and receipt
written before stays: old holds become camera holds, old receipts keep their camera, reason and count.
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database
import rtcc.core.types

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

UTC = rtcc.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('retention_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('data_class', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('keep_for_seconds', sa.BigInteger(), nullable=False),
    sa.Column('keep_for', sa.String(length=16), nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('citation', sa.String(length=500), nullable=False),
    sa.Column('fields', rtcc.core.types.JSONDocument, nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policies')),
    sa.UniqueConstraint('data_class', 'version', name='uq_retention_policies_class_version')
    )
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), server_default='camera', nullable=False))
        batch_op.add_column(sa.Column('incident_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('plate', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('upload_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('agency_ori', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('review_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('released_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('release_reason', sa.String(length=500), nullable=True))
        batch_op.alter_column('starts_at', existing_type=UTC, nullable=True)
        batch_op.alter_column('ends_at', existing_type=UTC, nullable=True)
        batch_op.alter_column('case_number', existing_type=sa.String(length=64), nullable=True)
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_class', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='done', nullable=False))
        batch_op.add_column(sa.Column('policy_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cutoff', UTC, nullable=True))
        batch_op.add_column(sa.Column('skipped_held', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('skipped', rtcc.core.types.JSONDocument, server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('breakdown', rtcc.core.types.JSONDocument, server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('finished_at', UTC, nullable=True))
        batch_op.alter_column('camera_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('range_start', existing_type=UTC, nullable=True)
        batch_op.alter_column('range_end', existing_type=UTC, nullable=True)
        batch_op.create_index('ix_deletion_receipts_class_created', ['data_class', 'created_at'], unique=False)


def downgrade() -> None:
    # Holds and receipts that only governance can express (no camera window, no camera) do not fit 0003's
    # columns: they are refused rather than silently dropped.
    connection = op.get_bind()
    unfit = connection.execute(sa.text(
        "SELECT (SELECT count(*) FROM legal_holds WHERE starts_at IS NULL OR ends_at IS NULL OR case_number IS NULL)"
        " + (SELECT count(*) FROM deletion_receipts WHERE camera_id IS NULL OR range_start IS NULL)")).scalar()
    if unfit:
        raise RuntimeError(f"{unfit} legal holds or deletion receipts need governance's columns; export them first")
    with op.batch_alter_table('deletion_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_deletion_receipts_class_created')
        batch_op.alter_column('range_end', existing_type=UTC, nullable=False)
        batch_op.alter_column('range_start', existing_type=UTC, nullable=False)
        batch_op.alter_column('camera_id', existing_type=sa.Integer(), nullable=False)
        for column in ('finished_at', 'breakdown', 'skipped', 'skipped_held', 'cutoff', 'policy_version', 'status',
                       'data_class'):
            batch_op.drop_column(column)
    with op.batch_alter_table('legal_holds', schema=None) as batch_op:
        batch_op.alter_column('case_number', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('ends_at', existing_type=UTC, nullable=False)
        batch_op.alter_column('starts_at', existing_type=UTC, nullable=False)
        for column in ('release_reason', 'released_by', 'review_at', 'agency_ori', 'upload_id', 'plate', 'incident_id',
                       'kind'):
            batch_op.drop_column(column)
    op.drop_table('retention_policies')
