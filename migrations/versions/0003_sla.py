"""SLA: policies, the clocks they start, and the "waiting on the caller" pause.

Revision ID: 0003_sla
Revises: 0002_telephony
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003_sla'
down_revision = '0002_telephony'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=4), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('contact_point', sa.String(length=40), nullable=False),
    sa.Column('clock', sa.String(length=20), nullable=False),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('warning_share', sa.Float(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies'))
    )
    op.create_table('sla_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=20), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remaining_seconds', sa.Float(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('elapsed_seconds', sa.Float(), nullable=True),
    sa.Column('met', sa.Boolean(), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_sla_clocks_policy_id_sla_policies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_clocks_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks'))
    )
    op.create_index(op.f('ix_sla_clocks_running_due'), 'sla_clocks', ['due_at'], unique=False, postgresql_where='stopped_at IS NULL AND breached_at IS NULL')
    op.create_index(op.f('ix_sla_clocks_running_warn'), 'sla_clocks', ['warn_at'], unique=False, postgresql_where='stopped_at IS NULL AND warned_at IS NULL')
    op.create_index(op.f('ix_sla_clocks_ticket_id'), 'sla_clocks', ['ticket_id'], unique=False)
    op.add_column('tickets', sa.Column('waiting_on_caller', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('tickets', 'waiting_on_caller')
    op.drop_index(op.f('ix_sla_clocks_ticket_id'), table_name='sla_clocks')
    op.drop_index(op.f('ix_sla_clocks_running_warn'), table_name='sla_clocks', postgresql_where='stopped_at IS NULL AND warned_at IS NULL')
    op.drop_index(op.f('ix_sla_clocks_running_due'), table_name='sla_clocks', postgresql_where='stopped_at IS NULL AND breached_at IS NULL')
    op.drop_table('sla_clocks')
    op.drop_table('sla_policies')
