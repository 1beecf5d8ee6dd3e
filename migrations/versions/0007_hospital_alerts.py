"""Reaching a hospital's emergency desk: outbound calls and SMS per dispatch (issue 4).

Revision ID: 0007_hospital_alerts
Revises: 0006_sla_escalation
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_hospital_alerts'
down_revision = '0006_sla_escalation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('hospital_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('dispatch_event_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('to_number', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dispatch_event_id'], ['ticket_events.id'],
                            name=op.f('fk_hospital_alerts_dispatch_event_id_ticket_events')),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_hospital_alerts_hospital_id_hospitals')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_hospital_alerts_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_alerts')),
    sa.UniqueConstraint('dispatch_event_id', 'channel', name=op.f('uq_hospital_alerts_dispatch_event_id')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_hospital_alerts_provider_sid'))
    )
    op.create_index(op.f('ix_hospital_alerts_status'), 'hospital_alerts', ['status'], unique=False)
    op.create_index(op.f('ix_hospital_alerts_ticket_id'), 'hospital_alerts', ['ticket_id'], unique=False)
    # The desk's mobile for SMS; the desk phone (hospitals.desk_phone) is the number called.
    op.add_column('hospitals', sa.Column('sms_phone', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('hospitals', 'sms_phone')
    op.drop_index(op.f('ix_hospital_alerts_ticket_id'), table_name='hospital_alerts')
    op.drop_index(op.f('ix_hospital_alerts_status'), table_name='hospital_alerts')
    op.drop_table('hospital_alerts')
