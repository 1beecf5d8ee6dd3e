"""Why a ticket was cancelled, as a code reports count: nuisance, duplicate, wrong_number, other.

Revision ID: 0013_cancel_reason
Revises: 0012_calendar_days
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_cancel_reason'
down_revision = '0012_calendar_days'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: tickets cancelled before this keep no code (their history event
    # still holds the words), and open tickets have none. No CHECK constraint: the app
    # validates the code (tickets.services.CANCEL_REASONS), so a new code needs no table
    # rebuild on SQLite.
    op.add_column('tickets', sa.Column('cancel_reason', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('tickets', 'cancel_reason')
