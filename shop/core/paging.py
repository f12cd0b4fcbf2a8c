"""Pages of long lists: the page number a person asked for, whatever they typed."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.datastructures import MultiDict

from shop.extensions import db

# Far beyond any real list, and small enough that the OFFSET stays a number databases accept.
MAX_PAGE = 10_000


def requested_page(args: MultiDict | None = None) -> int:
    """`?page=` as a number from 1 to MAX_PAGE; anything else is page 1."""
    args = request.args if args is None else args
    try:
        page = int(args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


def paginate(query, size_setting: str = "STAFF_PAGE_SIZE"):
    """One page of `query`; a page past the end is empty, never an error."""
    per_page = current_app.config[size_setting]
    return db.paginate(query, page=requested_page(), per_page=per_page, max_per_page=per_page, error_out=False)
