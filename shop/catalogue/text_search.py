"""Full-text matching in each database's own engine, over the search index: SQLite FTS5 ranked by
BM25, PostgreSQL tsvector (GIN) ranked by ts_rank over the name, codes and brand; every word
typed is matched as the start of a word ("resty" finds Restylane), but for single letters and
digits, which must be a whole word.
And the nearest name words to a misspelt one, by trigrams (FTS5's
trigram tokenizer; pg_trgm's distance, nearest first from a GiST index), for "Did you mean".

`matches()` gives (product_id, rank) rows, the best first when ordered by rank."""

from __future__ import annotations

import difflib

from sqlalchemy import Float, Integer, String, Subquery, bindparam, column, literal, select, table, text, union_all

from shop.catalogue.search_index import MIN_VOCABULARY_WORD, SearchWord, words
from shop.extensions import db

# BM25 weights of the FTS5 columns (name, codes, brand, body).
SQLITE_WEIGHTS = "10.0, 10.0, 5.0, 1.0"
WORDS = "words"  # the parameter the words searched for are given in
CANDIDATES = 20  # name words the engine offers for one misspelt word
CLOSE_ENOUGH = 0.75  # how alike (difflib's ratio) a suggestion and the word typed must be


def terms(query: str, limit: int) -> list[str]:
    """The words of a query, as the index holds them, at most `limit` of them."""
    return words(query)[:limit]


def matches(query_words: list[str] | None, *, ranked: bool = True) -> Subquery:
    """Products whose index holds a word starting with each of `query_words`, with a rank
    (lower is better; 0 for all when not `ranked`, for counting). With None, the words are left
    to the statement's parameter WORDS, given its value (`words_value`) when it runs."""
    if _on_postgresql():
        # A narrow table beside the search rows, written by a trigger (made by the migrations):
        # `document`, every word of the row, matched through its GIN index; `title`, the name,
        # codes (weight A) and brand (B), ranked (a match in the description alone ranks 0).
        # The query is made once per run in a subquery: in a prepared statement's generic plan,
        # to_tsquery() of the parameter would be worked out again for every row ranked.
        query = f"(SELECT to_tsquery('simple'::regconfig, :{WORDS}))"
        rank = f"-ts_rank(title, {query})" if ranked else "0.0"
        statement = text(f"SELECT product_id, {rank} AS rank FROM product_search_documents WHERE document @@ {query}")
    else:
        rank = f"bm25(product_search_fts, {SQLITE_WEIGHTS})" if ranked else "0.0"
        statement = text(
            f"SELECT rowid AS product_id, {rank} AS rank FROM product_search_fts WHERE product_search_fts MATCH :{WORDS}"
        )
    value = None if query_words is None else words_value(query_words)
    statement = statement.bindparams(bindparam(WORDS, value, type_=String))
    return statement.columns(column("product_id", Integer), column("rank", Float)).subquery("matched")


def words_value(query_words: list[str]) -> str:
    """What the engine is asked for `query_words`: a tsquery (PostgreSQL), an FTS5 query (SQLite)."""
    if _on_postgresql():
        return " & ".join(w + _prefix(w, ":*") for w in query_words)
    return " AND ".join(f'"{w}"' + _prefix(w, "*") for w in query_words)


def _on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _prefix(word: str, mark: str) -> str:
    return mark if len(word) > 1 else ""


def _candidates(typed: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each word typed, the name words that share trigrams with it, the most alike first:
    (word, as written). One statement for all the words (a nearest-first list for each, joined)."""
    postgresql = _on_postgresql()
    parts = []
    for n, word in enumerate(typed):
        if postgresql:
            distance = SearchWord.word.op("<->", return_type=Float)(word)
            nearest = select(SearchWord.word, SearchWord.display, distance.label("distance"))
        else:
            grams = {word[i : i + 3] for i in range(len(word) - 2)}
            fts = table("search_words_fts", column("rowid"), column("rank"))
            nearest = (
                select(SearchWord.word, SearchWord.display, fts.c.rank.label("distance"))
                .join(fts, fts.c.rowid == SearchWord.id)
                .where(text(f"search_words_fts MATCH :grams{n}").bindparams(**{f"grams{n}": _any_of(grams)}))
            )
        ranked = nearest.order_by("distance", SearchWord.word).limit(CANDIDATES).subquery(f"near{n}")
        parts.append(select(literal(n).label("typed"), ranked.c.word, ranked.c.display, ranked.c.distance))
    found: dict[str, list[tuple[str, str]]] = {word: [] for word in typed}
    if parts:
        rows = db.session.execute(union_all(*parts)).all()
        for n, candidate, display, _distance in sorted(rows, key=lambda row: (row[0], row[3], row[1])):
            found[typed[n]].append((candidate, display))
    return found


def _any_of(grams: set[str]) -> str:
    return " OR ".join(f'"{g}"' for g in sorted(grams))


def closest_words(typed: list[str]) -> list[tuple[str, str] | None]:
    """For each word typed, the name word it most likely misspells, (word, as written), if one
    is close enough; None for a word the vocabulary holds (or the start of one), or one too short
    or too far from any."""
    looked_up = [word for word in typed if len(word) >= MIN_VOCABULARY_WORD and not word.isdigit()]
    candidates = _candidates(list(dict.fromkeys(looked_up)))
    return [_closest(word, candidates.get(word, [])) for word in typed]


def _closest(word: str, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
    best, best_ratio = None, CLOSE_ENOUGH
    for candidate, display in candidates:
        if candidate.startswith(word):
            return None  # a word the vocabulary holds, or the start of one
        ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
        if ratio > best_ratio:
            best, best_ratio = (candidate, display), ratio
    return best
