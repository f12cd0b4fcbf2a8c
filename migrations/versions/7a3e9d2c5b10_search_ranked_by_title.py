"""search on PostgreSQL: a narrow table of the documents, ranked by the name, codes and brand

PostgreSQL matched a search through a GIN index on a tsvector stored in each wide search row (its
texts beside it), and ranked each match by ts_rank over the whole document: a search matching
thousands of products read a heap block per match or two, and read the GIN index's pending list
of recent changes until (auto)vacuum merged it. Now the words live in a narrow table written by a
trigger from the search rows: `title` (name and codes weight A, brand B; ranked) and `document`
(every word, stripped of positions and weights: matched), about 30 rows to a block; its GIN index
takes each change at once (fastupdate off: products change a few at a time at the catalogue desk).
A match in the description alone still ranks below them all.

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

TITLE = (
    "setweight(to_tsvector('simple'::regconfig, {row}name), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, {row}codes), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, {row}brand), 'B')"
)
DOCUMENT = (
    "strip(to_tsvector('simple'::regconfig, {row}name) || to_tsvector('simple'::regconfig, {row}codes) || "
    "to_tsvector('simple'::regconfig, {row}brand) || to_tsvector('simple'::regconfig, {row}body))"
)
UPGRADE = [
    "CREATE TABLE product_search_documents ("
    " product_id integer NOT NULL"
    " CONSTRAINT pk_product_search_documents PRIMARY KEY"
    " CONSTRAINT fk_product_search_documents_product_id_product_search"
    " REFERENCES product_search (product_id) ON DELETE CASCADE,"
    " title tsvector NOT NULL, document tsvector NOT NULL)",
    "CREATE FUNCTION product_search_documents_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO product_search_documents (product_id, title, document)"
    f" VALUES (NEW.product_id, {TITLE.format(row='NEW.')}, {DOCUMENT.format(row='NEW.')})"
    " ON CONFLICT (product_id) DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document;"
    " RETURN NULL; END $$",
    "CREATE TRIGGER product_search_documents_write AFTER INSERT OR UPDATE OF name, codes, brand, body"
    " ON product_search FOR EACH ROW EXECUTE FUNCTION product_search_documents_write()",
    "INSERT INTO product_search_documents (product_id, title, document)"
    f" SELECT product_id, {TITLE.format(row='')}, {DOCUMENT.format(row='')} FROM product_search",
    "CREATE INDEX ix_product_search_documents_document ON product_search_documents"
    " USING gin (document) WITH (fastupdate = off)",
    "DROP INDEX ix_product_search_document",
    "ALTER TABLE product_search DROP COLUMN document",
]
DOWNGRADE = [
    "ALTER TABLE product_search ADD COLUMN document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, name), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, codes), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, brand), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'D')) STORED",
    "CREATE INDEX ix_product_search_document ON product_search USING gin (document)",
    "DROP TRIGGER product_search_documents_write ON product_search",
    "DROP FUNCTION product_search_documents_write()",
    "DROP TABLE product_search_documents",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":  # SQLite's FTS5 tables are as they were
        for statement in UPGRADE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
