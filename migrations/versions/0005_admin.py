"""Administration: audit log and canned responses (issue 6).

Revision ID: 0005_admin
Revises: 0004_routing
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0005_admin'
down_revision = '0004_routing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
