"""SLA escalation to leads and supervisors, report indexes and the daily rollup (issue 5).

Revision ID: 0006_sla_escalation
Revises: 0005_admin
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0006_sla_escalation'
down_revision = '0005_admin'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
