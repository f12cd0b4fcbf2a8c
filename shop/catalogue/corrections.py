"""Searches that find nothing because a name is misspelt: what they most likely mean."""

from __future__ import annotations

from dataclasses import replace

from shop.catalogue.search import CatalogueFilter, search_products
from shop.catalogue.text_search import closest_word
from shop.core.paging import CappedPagination


def correction(f: CatalogueFilter) -> str | None:
    """For a search that finds nothing: the query with each misspelt word replaced by the name
    word it most likely means ("restylnae" -> "Restylane"), if that finds something."""
    found = corrected_search(f, 1)
    return found[0] if found else None


def corrected_search(f: CatalogueFilter, per_page: int) -> tuple[str, CappedPagination] | None:
    """The corrected query (see `correction`) and the first page of what it finds, or None."""
    if not f.terms:
        return None
    corrected, changed = [], False
    for word in f.terms:
        closest = closest_word(word)
        corrected.append(closest[1] if closest else word)
        changed = changed or closest is not None
    if not changed:
        return None
    query = " ".join(corrected)
    page = search_products(replace(f, q=query), 1, per_page)
    return (query, page) if page.items else None
