"""Administration: the audit log, the configuration version caches follow, contact point phone and email.

Revision ID: 0005_admin
Revises: 0004_routing
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005_admin'
down_revision = '0004_routing'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_key', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('before', JSON, nullable=True),
    sa.Column('after', JSON, nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_actor_id'), 'audit_log', ['actor_id'], unique=False)
    op.create_index('ix_audit_log_entity_key', 'audit_log', ['entity', 'entity_key'], unique=False)
    version = op.create_table('config_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_version'))
    )
    op.bulk_insert(version, [{'id': 1, 'version': 0, 'changed_at': None}])
    op.add_column('contact_points', sa.Column('phone', sa.String(length=20), nullable=True))
    op.add_column('contact_points', sa.Column('email', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column('contact_points', 'email')
    op.drop_column('contact_points', 'phone')
    op.drop_table('config_version')
    op.drop_index('ix_audit_log_entity_key', table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
