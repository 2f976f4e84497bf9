"""catalogs: the code scheme (digits per level); draft changes: the code a new item was merged under

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('catalogs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('code_scheme', sa.String(length=32), server_default='A/01/001/01', nullable=False)
        )
    with op.batch_alter_table('draft_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_code', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('draft_changes', schema=None) as batch_op:
        batch_op.drop_column('merged_code')
    with op.batch_alter_table('catalogs', schema=None) as batch_op:
        batch_op.drop_column('code_scheme')
