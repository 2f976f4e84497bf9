"""drafts: the reason finance gave for withdrawing one, and the token that makes creating one idempotent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdraw_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('request_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_drafts_request_token'), ['request_token'])


def downgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_drafts_request_token'), type_='unique')
        batch_op.drop_column('request_token')
        batch_op.drop_column('withdraw_reason')
