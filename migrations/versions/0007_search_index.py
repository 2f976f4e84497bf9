"""search index: entries of published versions, pg_trgm and bigram indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 09:50:00

SQLite's FTS5 tables are not created here: the models cannot describe a virtual table, so
the migration-versus-models check would see them as strays. `app.db.search_store` creates
them (IF NOT EXISTS) when it first writes the index; the downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    else:
        # SQLite keeps the search text in two contentless FTS5 tables: trigrams for terms of three
        # or more characters, and character bigrams (as ASCII tokens) for one- and two-character terms.
        op.execute(
            "CREATE VIRTUAL TABLE search_trigram USING fts5("
            "t, tokenize='trigram', content='', detail='full', columnsize=0)"
        )
        op.execute(
            "CREATE VIRTUAL TABLE search_grams USING fts5("
            "g, tokenize='ascii', content='', detail='none', columnsize=0)"
        )
    op.create_table(
        'search_entries',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('catalog_id', sa.Integer(), nullable=False),
        sa.Column('node_id', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.String(length=32), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('class_code', sa.String(length=32), nullable=False),
        sa.Column('type_code', sa.String(length=32), nullable=False),
        sa.Column('type_uid', sa.String(length=32), nullable=False),
        sa.Column('type_name', sa.String(length=100), nullable=False),
        sa.Column('path', sa.String(length=400), nullable=False),
        sa.Column('department_code', sa.String(length=32), nullable=False),
        sa.Column('department_name', sa.String(length=100), nullable=False),
        sa.Column('pinyin', sa.String(length=600), nullable=False),
        sa.Column('initials', sa.String(length=100), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=True),
        sa.Column('grams', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=True),
        sa.ForeignKeyConstraint(['catalog_id'], ['catalogs.id'], name=op.f('fk_search_entries_catalog_id_catalogs')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_search_entries_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entries')),
    )
    if postgres:
        # the bigram tsvector (~1-2 kB) goes out of line: a row walked in id order stays ~700 bytes
        op.execute('ALTER TABLE search_entries SET (toast_tuple_target = 1024)')
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        # fastupdate off: a version published later goes straight into the index, leaving no
        # pending list for every search to scan until a vacuum (reindex drops and rebuilds them)
        batch_op.create_index(
            'ix_search_entries_search_text', ['search_text'], unique=False,
            postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'},
            postgresql_with={'fastupdate': 'off'},
        )
        batch_op.create_index(
            'ix_search_entries_grams', ['grams'], unique=False, postgresql_using='gin',
            postgresql_with={'fastupdate': 'off'},
        )
    op.create_table(
        'search_versions',
        sa.Column('version_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('catalog_id', sa.Integer(), nullable=False),
        sa.Column('first_id', sa.BigInteger(), nullable=False),
        sa.Column('last_id', sa.BigInteger(), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('indexed_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.ForeignKeyConstraint(['catalog_id'], ['catalogs.id'], name=op.f('fk_search_versions_catalog_id_catalogs')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_search_versions_version_id_versions')),
        sa.PrimaryKeyConstraint('version_id', name=op.f('pk_search_versions')),
    )


def downgrade() -> None:
    op.drop_table('search_versions')
    with op.batch_alter_table('search_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_search_entries_grams', postgresql_using='gin')
        batch_op.drop_index(
            'ix_search_entries_search_text', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'}
        )
    op.drop_table('search_entries')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TABLE search_trigram')
        op.execute('DROP TABLE search_grams')
