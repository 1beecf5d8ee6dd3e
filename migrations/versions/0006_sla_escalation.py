"""SLA escalation to leads and supervisors, report indexes and the daily rollup (issue 5).

Revision ID: 0006_sla_escalation
Revises: 0005_admin
Create Date: 2026-11-25

On a large database the report indexes take a while to build (about a minute for a million
tickets) and hold writes to their table meanwhile: run it in a quiet hour. Running clocks
already warned count as having told their lead, those already breached as past every step,
so deploying it does not send a burst of old alerts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_sla_escalation'
down_revision = '0005_admin'
branch_labels = None
depends_on = None

_DIRECTORY = {'contact_point_id': 'contact_points', 'hospital_id': 'hospitals'}


def _group_columns(table: str) -> list:
    return [sa.Column('contact_point_id', sa.Integer(), nullable=True),
            sa.Column('hospital_id', sa.Integer(), nullable=True),
            *(sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))
              for column, target in _DIRECTORY.items())]


def upgrade() -> None:
    # Leads and the numbers escalation SMS go to.
    op.add_column('users', sa.Column('is_lead', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('users', sa.Column('phone', sa.String(length=20), nullable=True))

    # Escalation: the rules, and each clock run's progress through them.
    op.create_table('sla_escalation_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=20), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=10), nullable=False),
    sa.Column('delay_seconds', sa.Integer(), nullable=False),
    sa.Column('notify', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_escalation_rules')),
    sa.UniqueConstraint('clock', 'step', name=op.f('uq_sla_escalation_rules_clock'))
    )
    op.add_column('sla_clocks', sa.Column('escalation_step', sa.Integer(), nullable=False,
                                          server_default=sa.text('0')))
    op.add_column('sla_clocks', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    # Running clocks already marked: as if the shipped rules had run (the lead told at the
    # warning; a breached clock past every step), so no burst of old alerts follows the deploy.
    op.execute("UPDATE sla_clocks SET escalation_step = CASE WHEN breached_at IS NOT NULL THEN 99 ELSE 1 END"
               " WHERE stopped_at IS NULL AND (warned_at IS NOT NULL OR breached_at IS NOT NULL)")
    op.create_index(op.f('ix_sla_clocks_running_escalation'), 'sla_clocks', ['clock', 'escalation_step'],
                    unique=False, postgresql_include=['warned_at', 'breached_at', 'paused_at'],
                    postgresql_where='stopped_at IS NULL')

    # The report indexes.
    op.create_index(op.f('ix_sla_clocks_breach_due'), 'sla_clocks', ['due_at'], unique=False,
                    postgresql_where='met IS FALSE OR breached_at IS NOT NULL OR stopped_at IS NULL')
    op.create_index(op.f('ix_sla_clocks_breach_paused'), 'sla_clocks', ['breached_at'], unique=False,
                    postgresql_where='due_at IS NULL AND breached_at IS NOT NULL')
    op.create_index(op.f('ix_sla_clocks_ticket_scored'), 'sla_clocks', ['ticket_id'], unique=False,
                    postgresql_include=['clock', 'met', 'elapsed_seconds'], postgresql_where='met IS NOT NULL')
    op.create_index(op.f('ix_tickets_created_at_report'), 'tickets', ['created_at'], unique=False,
                    postgresql_include=['id', 'line', 'status', 'contact_point_id', 'hospital_id', 'satisfaction',
                                        'created_by_id'])
    op.create_index(op.f('ix_ticket_events_outcome'), 'ticket_events', ['at'], unique=False,
                    postgresql_include=['ticket_id', 'action'], postgresql_where="action IN ('resolve', 'reopen')")
    op.create_index(op.f('ix_calls_started_at_report'), 'calls', ['started_at'], unique=False,
                    postgresql_include=['ticket_id', 'line', 'queue_time', 'answered_at', 'ended_at', 'voicemail'])

    # The daily rollup.
    op.create_table('sla_rollup_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False, server_default=sa.text('0')),
    sa.Column('computed_changes', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_sla_rollup_days'))
    )
    op.create_table('sla_rollup_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('line', sa.String(length=4), nullable=False),
    *_group_columns('sla_rollup_tickets'),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('surveys', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_rollup_tickets'))
    )
    op.create_index(op.f('ix_sla_rollup_tickets_day'), 'sla_rollup_tickets', ['day'], unique=False)
    op.create_table('sla_rollup_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('line', sa.String(length=4), nullable=False),
    *_group_columns('sla_rollup_clocks'),
    sa.Column('clock', sa.String(length=20), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    sa.Column('met', sa.Integer(), nullable=False),
    sa.Column('elapsed', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_rollup_clocks'))
    )
    op.create_index(op.f('ix_sla_rollup_clocks_day'), 'sla_rollup_clocks', ['day'], unique=False)
    op.create_table('sla_rollup_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('line', sa.String(length=4), nullable=False),
    sa.Column('ticket_line', sa.String(length=4), nullable=False),
    *_group_columns('sla_rollup_calls'),
    sa.Column('calls', sa.LargeBinary(), nullable=False),
    sa.Column('answered_15s', sa.LargeBinary(), nullable=False),
    sa.Column('abandoned', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_rollup_calls'))
    )
    op.create_index(op.f('ix_sla_rollup_calls_day'), 'sla_rollup_calls', ['day'], unique=False)


def downgrade() -> None:
    for table in ('sla_rollup_calls', 'sla_rollup_clocks', 'sla_rollup_tickets'):
        op.drop_index(op.f(f'ix_{table}_day'), table_name=table)
        op.drop_table(table)
    op.drop_table('sla_rollup_days')
    op.drop_index(op.f('ix_calls_started_at_report'), table_name='calls')
    op.drop_index(op.f('ix_ticket_events_outcome'), table_name='ticket_events')
    op.drop_index(op.f('ix_tickets_created_at_report'), table_name='tickets')
    for index in ('ix_sla_clocks_ticket_scored', 'ix_sla_clocks_breach_paused', 'ix_sla_clocks_breach_due',
                  'ix_sla_clocks_running_escalation'):
        op.drop_index(op.f(index), table_name='sla_clocks')
    op.drop_column('sla_clocks', 'escalated_at')
    op.drop_column('sla_clocks', 'escalation_step')
    op.drop_table('sla_escalation_rules')
    op.drop_column('users', 'phone')
    op.drop_column('users', 'is_lead')
