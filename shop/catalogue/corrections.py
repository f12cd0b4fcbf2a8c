"""Searches that find nothing because a name is misspelt: what they most likely mean."""

from __future__ import annotations

from dataclasses import replace

from shop.catalogue.search import CatalogueFilter, search_products
from shop.catalogue.text_search import closest_words
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
    closest = closest_words(f.terms)
    if not any(closest):
        return None
    query = " ".join(near[1] if near else word for word, near in zip(f.terms, closest, strict=True))
    page = search_products(replace(f, q=query), 1, per_page)
    return (query, page) if page.items else None
