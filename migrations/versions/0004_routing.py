"""Routing: rules as data, the routing proposal on each ticket, hospital desk phones.

Revision ID: 0004_routing
Revises: 0003_sla
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004_routing'
down_revision = '0003_sla'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('district_code', sa.String(length=10), nullable=False),
    sa.Column('ward_code', sa.String(length=10), nullable=False),
    sa.Column('contact_point', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules'))
    )
    op.add_column('hospitals', sa.Column('desk_phone', sa.String(length=20), nullable=True))
    op.add_column('tickets', sa.Column('routing', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))
    op.add_column('tickets', sa.Column('category_confirmed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('tickets', 'category_confirmed')
    op.drop_column('tickets', 'routing')
    op.drop_column('hospitals', 'desk_phone')
    op.drop_table('routing_rules')
