"""draft imports: an upload kept between its preview and its confirmation, and what undoing it restores

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('draft_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('previewed_lock', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=True),
    sa.Column('applied_lock', sa.Integer(), nullable=True),
    sa.Column('restore', sa.JSON(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("scope IS NULL OR scope IN ('add_update', 'replace')", name=op.f('ck_draft_imports_scope')),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_draft_imports_draft_id_drafts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_draft_imports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draft_imports')),
    sa.UniqueConstraint('token', name=op.f('uq_draft_imports_token'))
    )
    with op.batch_alter_table('draft_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_imports_draft_id'), ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('draft_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_imports_draft_id'))

    op.drop_table('draft_imports')
