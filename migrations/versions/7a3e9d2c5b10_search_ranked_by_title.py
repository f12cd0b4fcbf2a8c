"""search: PostgreSQL ranks by the name, codes and brand, and its GIN index has no pending list

PostgreSQL ranked a search with ts_rank over each match's whole document (the description
included), and read its GIN index's pending list of recent changes on every search until
(auto)vacuum merged it. Products change a few at a time at the catalogue desk, so the index takes
each change at once (fastupdate off; what is pending now is merged), and the rank reads a small
vector of the name and codes (weight A) and the brand (B): a match in the description alone
ranks below them all, as it did.

Revision ID: 7a3e9d2c5b10
Revises: dc0c4a4a1617
Create Date: 2026-12-07 06:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7a3e9d2c5b10'
down_revision = 'dc0c4a4a1617'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 ranks by BM25 with its column weights, and has no pending list
    op.execute(
        "ALTER TABLE product_search ADD COLUMN title tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('simple'::regconfig, name), 'A') || "
        "setweight(to_tsvector('simple'::regconfig, codes), 'A') || "
        "setweight(to_tsvector('simple'::regconfig, brand), 'B')) STORED"
    )
    op.execute("ALTER INDEX ix_product_search_document SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_product_search_document'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_product_search_document RESET (fastupdate)")
    op.execute("ALTER TABLE product_search DROP COLUMN title")
