"""Canned responses per category for department answers (issue 6).

Revision ID: 0008_canned_responses
Revises: 0007_hospital_alerts
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_canned_responses'
down_revision = '0007_hospital_alerts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('canned_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['categories.code'],
                            name=op.f('fk_canned_responses_category_code_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses')),
    sa.UniqueConstraint('category_code', 'title', name=op.f('uq_canned_responses_category_code'))
    )
    op.create_index(op.f('ix_canned_responses_category_code'), 'canned_responses', ['category_code'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_canned_responses_category_code'), table_name='canned_responses')
    op.drop_table('canned_responses')
