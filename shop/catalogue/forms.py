"""The catalogue's filter panel, read from the query string."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from shop.catalogue.search import MAX_QUERY_LENGTH, SORTS, CatalogueFilter
from shop.forms import clean_text

SLUG_MAX = 80


def _slug(args: MultiDict, name: str) -> str:
    value = clean_text(args.get(name, ""))[:SLUG_MAX]
    return value if value.replace("-", "").isalnum() else ""


def filter_from_args(args: MultiDict) -> CatalogueFilter:
    """Whatever arrives in the query string becomes a valid filter; nonsense is ignored."""
    q = clean_text(args.get("q", ""))[:MAX_QUERY_LENGTH]
    sort = args.get("sort") or ("relevance" if q.strip() else "name")
    return CatalogueFilter(
        q=q,
        category=_slug(args, "category"),
        brand=_slug(args, "brand"),
        ingredient=_slug(args, "ingredient"),
        area=_slug(args, "area"),
        lidocaine=args.get("lidocaine") in ("1", "on", "yes", "true"),
        in_stock=args.get("in_stock") in ("1", "on", "yes", "true"),
        sort=sort if sort in SORTS else "name",
    )
