"""Personal-data retention: when a ticket's caller data was erased (tickets/retention.py).

Revision ID: 0011_retention
Revises: 0010_open311_submissions
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_retention'
down_revision = '0010_open311_submissions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: every existing ticket still holds its personal data.
    op.add_column('tickets', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('tickets', 'anonymised_at')
