"""Telephony: call records, the SMS outbox and inbox, operators on duty, survey time.

Revision ID: 0002_telephony
Revises: 0001_core_schema
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002_telephony'
down_revision = '0001_core_schema'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.String(length=4), nullable=False),
    sa.Column('from_number', sa.String(length=64), nullable=False),
    sa.Column('to_number', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Integer(), nullable=True),
    sa.Column('queue_time', sa.Integer(), nullable=True),
    sa.Column('queue_result', sa.String(length=30), nullable=True),
    sa.Column('voicemail', sa.Boolean(), nullable=False),
    sa.Column('recording_sid', sa.String(length=64), nullable=True),
    sa.Column('recording_url', sa.String(length=500), nullable=True),
    sa.Column('recording_duration', sa.Integer(), nullable=True),
    sa.Column('callback_needed', sa.Boolean(), nullable=False),
    sa.Column('callback_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_calls_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('recording_sid', name=op.f('uq_calls_recording_sid')),
    sa.UniqueConstraint('sid', name=op.f('uq_calls_sid'))
    )
    op.create_index(op.f('ix_calls_callback_needed'), 'calls', ['callback_needed'], unique=False)
    op.create_index(op.f('ix_calls_ticket_id'), 'calls', ['ticket_id'], unique=False)
    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('from_number', sa.String(length=64), nullable=False),
    sa.Column('to_number', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('sid', name=op.f('uq_inbound_messages_sid'))
    )
    op.create_index(op.f('ix_inbound_messages_ticket_id'), 'inbound_messages', ['ticket_id'], unique=False)
    op.create_table('outbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('to_number', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_outbound_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_messages')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_outbound_messages_provider_sid'))
    )
    op.create_index(op.f('ix_outbound_messages_status'), 'outbound_messages', ['status'], unique=False)
    op.create_index(op.f('ix_outbound_messages_ticket_id'), 'outbound_messages', ['ticket_id'], unique=False)
    op.add_column('tickets', sa.Column('survey_sent_at', sa.DateTime(timezone=True), nullable=True))
    # Existing accounts start off duty; the default fills them in on every backend.
    op.add_column('users', sa.Column('on_duty', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('users', 'on_duty')
    op.drop_column('tickets', 'survey_sent_at')
    op.drop_index(op.f('ix_outbound_messages_ticket_id'), table_name='outbound_messages')
    op.drop_index(op.f('ix_outbound_messages_status'), table_name='outbound_messages')
    op.drop_table('outbound_messages')
    op.drop_index(op.f('ix_inbound_messages_ticket_id'), table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_index(op.f('ix_calls_ticket_id'), table_name='calls')
    op.drop_index(op.f('ix_calls_callback_needed'), table_name='calls')
    op.drop_table('calls')
