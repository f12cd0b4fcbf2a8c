"""Full-text matching in each database's own engine, over the search index: SQLite FTS5 ranked by
BM25, PostgreSQL tsvector (GIN) ranked by ts_rank; every word typed is matched as the start of a
word ("resty" finds Restylane), but for single letters and digits, which must be a whole word.
And the nearest name words to a misspelt one, by trigrams (FTS5's
trigram tokenizer; pg_trgm's distance, nearest first from a GiST index), for "Did you mean".

`matches()` gives (product_id, rank) rows, the best first when ordered by rank."""

from __future__ import annotations

import difflib

from sqlalchemy import Float, Integer, Subquery, column, select, table, text

from shop.catalogue.search_index import MIN_VOCABULARY_WORD, SearchWord, words
from shop.extensions import db

# BM25 weights of the FTS5 columns (name, codes, brand, body).
SQLITE_WEIGHTS = "10.0, 10.0, 5.0, 1.0"
CANDIDATES = 20  # name words the engine offers for one misspelt word
CLOSE_ENOUGH = 0.75  # how alike (difflib's ratio) a suggestion and the word typed must be


def terms(query: str, limit: int) -> list[str]:
    """The words of a query, as the index holds them, at most `limit` of them."""
    return words(query)[:limit]


def matches(query_words: list[str], *, ranked: bool = True) -> Subquery:
    """Products whose index holds a word starting with each of `query_words`, with a rank
    (lower is better; 0 for all when not `ranked`, for counting)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # `document`: the weighted tsvector PostgreSQL keeps for each row (made by the migration).
        rank = "-ts_rank(document, to_tsquery('simple'::regconfig, :tsquery))" if ranked else "0.0"
        statement = text(
            f"SELECT product_id, {rank} AS rank"
            " FROM product_search WHERE document @@ to_tsquery('simple'::regconfig, :tsquery)"
        ).bindparams(tsquery=" & ".join(w + _prefix(w, ":*") for w in query_words))
    else:
        rank = f"bm25(product_search_fts, {SQLITE_WEIGHTS})" if ranked else "0.0"
        statement = text(
            f"SELECT rowid AS product_id, {rank} AS rank FROM product_search_fts WHERE product_search_fts MATCH :match"
        ).bindparams(match=" AND ".join(f'"{w}"' + _prefix(w, "*") for w in query_words))
    return statement.columns(column("product_id", Integer), column("rank", Float)).subquery("matched")


def _prefix(word: str, mark: str) -> str:
    return mark if len(word) > 1 else ""


def _candidates(word: str) -> list[tuple[str, str]]:
    """Name words that share trigrams with `word`, the most alike first: (word, as written)."""
    if db.session.get_bind().dialect.name == "postgresql":
        statement = (
            select(SearchWord.word, SearchWord.display)
            .order_by(SearchWord.word.op("<->", return_type=Float)(word), SearchWord.word)
            .limit(CANDIDATES)
        )
        return [tuple(row) for row in db.session.execute(statement)]
    grams = {word[i : i + 3] for i in range(len(word) - 2)}
    fts = table("search_words_fts", column("rowid"), column("rank"))
    statement = (
        select(SearchWord.word, SearchWord.display)
        .join(fts, fts.c.rowid == SearchWord.id)
        .where(text("search_words_fts MATCH :grams").bindparams(grams=" OR ".join(f'"{g}"' for g in sorted(grams))))
        .order_by(fts.c.rank)
        .limit(CANDIDATES)
    )
    return [tuple(row) for row in db.session.execute(statement)]


def closest_word(word: str) -> tuple[str, str] | None:
    """The name word `word` most likely misspells, (word, as written), if one is close enough;
    None for a word the vocabulary holds (or the start of one), or one too short or too far
    from any."""
    if len(word) < MIN_VOCABULARY_WORD or word.isdigit():
        return None
    best, best_ratio = None, CLOSE_ENOUGH
    for candidate, display in _candidates(word):
        if candidate.startswith(word):
            return None  # a word the vocabulary holds, or the start of one
        ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
        if ratio > best_ratio:
            best, best_ratio = (candidate, display), ratio
    return best
