"""Canned responses per category for department answers (issue 6).

Revision ID: 0008_canned_responses
Revises: 0007_hospital_alerts
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0008_canned_responses'
down_revision = '0007_hospital_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
