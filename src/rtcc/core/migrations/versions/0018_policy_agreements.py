"""policy: agencies' kind and state, sharing agreements, policies, purposes, decisions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

Field shares gain the purpose category (a code of the managed list); shares made before keep none.
"""
import sqlalchemy as sa
from alembic import op

import rtcc.core.database
import rtcc.core.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

UTC = rtcc.core.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('policy_agency_profiles',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_policy_agency_profiles_agency_id_agencies'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_policy_agency_profiles'))
    )
    op.create_table('policy_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('data_classes', rtcc.core.types.JSONDocument, nullable=False),
    sa.Column('purposes', rtcc.core.types.JSONDocument, nullable=False),
    sa.Column('starts_at', UTC, nullable=False),
    sa.Column('expires_at', UTC, nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('declaration_signed', sa.Boolean(), nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=True),
    sa.Column('document_bytes', sa.Integer(), nullable=True),
    sa.Column('document_type', sa.String(length=64), nullable=True),
    sa.Column('document_uploaded_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('ended_at', UTC, nullable=True),
    sa.Column('ended_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_policy_agreements_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_agreements'))
    )
    op.create_index(op.f('ix_policy_agreements_agency_id'), 'policy_agreements', ['agency_id'], unique=False)
    op.create_table('policy_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('rules', rtcc.core.types.JSONDocument, nullable=False),
    sa.Column('document_sha256', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', UTC, nullable=False),
    sa.Column('loaded_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_policy_policies_name'))
    )
    op.create_table('policy_purposes',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_policy_purposes'))
    )
    op.create_table('policy_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=True),
    sa.Column('actor_agency_ori', sa.String(length=9), nullable=True),
    sa.Column('recipient_agency_ori', sa.String(length=9), nullable=True),
    sa.Column('data_class', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=True),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('rule', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_decisions'))
    )
    op.create_index(op.f('ix_policy_decisions_at'), 'policy_decisions', ['at'], unique=False)
    op.create_index(op.f('ix_policy_decisions_recipient_agency_ori'), 'policy_decisions', ['recipient_agency_ori'],
                    unique=False)
    with op.batch_alter_table('field_shares', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose_category', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('field_shares', schema=None) as batch_op:
        batch_op.drop_column('purpose_category')
    op.drop_index(op.f('ix_policy_decisions_recipient_agency_ori'), table_name='policy_decisions')
    op.drop_index(op.f('ix_policy_decisions_at'), table_name='policy_decisions')
    op.drop_table('policy_decisions')
    op.drop_table('policy_purposes')
    op.drop_table('policy_policies')
    op.drop_index(op.f('ix_policy_agreements_agency_id'), table_name='policy_agreements')
    op.drop_table('policy_agreements')
    op.drop_table('policy_agency_profiles')
