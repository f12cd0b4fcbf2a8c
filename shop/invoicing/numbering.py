"""Document numbers without gaps: one unbroken sequence per kind of document and year
("INV-2026-000123", "CN-2026-000045").

A number is taken in the caller's transaction by incrementing the year's counter row, which
holds that row's lock until the commit: issuers of the same kind in the same year are taken one
after the other, so no two get the same number, and a transaction that rolls back gives its
number back with everything else it did, so none is skipped."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from shop.extensions import db
from shop.invoicing.models import DocumentNumber

DIGITS = 6


def next_number(kind: str, year: int) -> tuple[str, int]:
    """The next number of `kind` in `year`, as printed and as its place in the sequence."""
    _ensure_counter(kind, year)
    sequence = db.session.execute(
        update(DocumentNumber)
        .where(DocumentNumber.kind == kind, DocumentNumber.year == year)
        .values(last_number=DocumentNumber.last_number + 1)
        .returning(DocumentNumber.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return f"{kind}-{year}-{sequence:0{DIGITS}d}", sequence


def _ensure_counter(kind: str, year: int) -> None:
    """The year's counter row, created by the first document of the year. Two first documents
    at the same moment both insert; the second waits for the first and then inserts nothing."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(DocumentNumber)
        .values(kind=kind, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["kind", "year"])
    )
