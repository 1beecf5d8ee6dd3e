"""Database guards: one ticket per Open311 resubmission (open311_submissions), and API key
names unique without regard to case (a unique index on lower(name), replacing the
case-sensitive unique constraint it makes redundant).

Revision ID: 0010_open311_submissions
Revises: 0009_api_keys
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_open311_submissions'
down_revision = '0009_api_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('open311_submissions',
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_open311_submissions_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_open311_submissions'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_api_keys_name'), type_='unique')
    # After the batch operation: on SQLite it rebuilds the table from what it can reflect,
    # and expression indexes are not reflected there (a later batch operation on api_keys
    # must create this index again). Fails if two keys already differ only by case
    # (issue_key has always refused that, except in a race): rename one of them first.
    op.create_index('uq_api_keys_lower_name', 'api_keys', [sa.text('lower(name)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_api_keys_lower_name', table_name='api_keys')  # before the batch rebuild: see upgrade
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_api_keys_name'), ['name'])
    op.drop_table('open311_submissions')
