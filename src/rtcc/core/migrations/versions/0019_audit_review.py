"""governance: audit review flags, reviews, weekly supervisor reviews and each rule's progress

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('agency_ori', sa.String(length=9), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('first_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_flags'))
    )
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_flags_agency_ori'), ['agency_ori'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_flags_username'), ['username'], unique=False)

    op.create_table('audit_review_progress',
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('rule', name=op.f('pk_audit_review_progress'))
    )
    op.create_table('audit_weekly_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=False),
    sa.Column('agency_ori', sa.String(length=9), nullable=True),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('due_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('completed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('flags_open', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_weekly_reviews')),
    sa.UniqueConstraint('supervisor', 'week_start', name='uq_audit_weekly_reviews_supervisor_week')
    )
    with op.batch_alter_table('audit_weekly_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_weekly_reviews_agency_ori'), ['agency_ori'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_weekly_reviews_supervisor'), ['supervisor'], unique=False)

    op.create_table('audit_flag_records',
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('audit_seq', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['audit_flags.id'], name=op.f('fk_audit_flag_records_flag_id_audit_flags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flag_id', 'audit_seq', name=op.f('pk_audit_flag_records')),
    sa.UniqueConstraint('rule', 'audit_seq', name='uq_audit_flag_records_rule_seq')
    )
    op.create_table('audit_flag_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('reviewed_at', rtcc.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['flag_id'], ['audit_flags.id'], name=op.f('fk_audit_flag_reviews_flag_id_audit_flags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_flag_reviews'))
    )
    with op.batch_alter_table('audit_flag_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_flag_reviews_flag_id'), ['flag_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_flag_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_flag_reviews_flag_id'))

    op.drop_table('audit_flag_reviews')
    op.drop_table('audit_flag_records')
    with op.batch_alter_table('audit_weekly_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_weekly_reviews_supervisor'))
        batch_op.drop_index(batch_op.f('ix_audit_weekly_reviews_agency_ori'))

    op.drop_table('audit_weekly_reviews')
    op.drop_table('audit_review_progress')
    with op.batch_alter_table('audit_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_flags_username'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_status'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_rule'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_flags_agency_ori'))

    op.drop_table('audit_flags')
