"""The province's days off and make-up working days, edited in /admin (tickets/calendar_days.py).

Revision ID: 0012_calendar_days
Revises: 0011_retention
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_calendar_days'
down_revision = '0011_retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty at first: the days of HOTLINE_DAYS_OFF / HOTLINE_WORKING_DAYS still apply from the
    # settings, so deploying this changes no clock.
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint("kind IN ('off', 'working')", name=op.f('ck_calendar_days_kind')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )


def downgrade() -> None:
    op.drop_table('calendar_days')
