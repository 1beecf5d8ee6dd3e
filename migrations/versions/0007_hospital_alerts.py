"""Reaching a hospital's emergency desk: outbound calls and SMS per dispatch (issue 4).

Revision ID: 0007_hospital_alerts
Revises: 0006_sla_escalation
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0007_hospital_alerts'
down_revision = '0006_sla_escalation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
