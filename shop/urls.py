"""Building links: absolute ones for email, checking `next` targets for redirects, the routes of
a table of posts, and the shapes of what a path may hold (slugs, row ids, document numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app
from werkzeug.routing import BaseConverter, IntegerConverter


def external_url(endpoint: str, **values) -> str:
    """An absolute link under SHOP_BASE_URL; works with or without a request."""
    base = urlsplit(current_app.config["SHOP_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, otherwise None.

    Rejects absolute URLs, scheme-relative `//host` and backslash tricks that browsers
    normalise into another host.
    """
    if not target or len(target) > 2000:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if any(ord(ch) < 32 for ch in target):
        return None
    return target


def add_post_routes(blueprint: Blueprint, rule: str, names: Iterable[str], view_for: Callable[[str], Callable]) -> None:
    """One POST route per name, for a table of similar actions: `rule` with `{name}` where the
    name goes (dashes for underscores in the URL), the endpoint named after it."""
    for name in names:
        view = view_for(name)
        view.__name__ = name
        url = rule.format(name=name.replace("_", "-"))
        blueprint.add_url_rule(url, endpoint=name, view_func=view, methods=["POST"])


class SlugConverter(BaseConverter):
    """Lower-case words joined by dashes; anything else in a slug position is a 404."""

    regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"


class OrderNumberConverter(BaseConverter):
    """An order number as people see it: ORD- and digits."""

    regex = r"ORD-\d{1,12}"


class QuoteNumberConverter(BaseConverter):
    """A quote number as people see it: Q- and digits."""

    regex = r"Q-\d{1,12}"


class InvoiceNumberConverter(BaseConverter):
    """An invoice number as printed: INV-, the year, and digits."""

    regex = r"INV-\d{4}-\d{1,12}"


class CreditNoteNumberConverter(BaseConverter):
    """A credit note's number as printed: CN-, the year, and digits."""

    regex = r"CN-\d{4}-\d{1,12}"


class RowIdConverter(IntegerConverter):
    """A database row id: a positive 32-bit integer. A larger number is a 404 at routing time
    instead of an overflow in the database driver."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**31 - 1)


def register_converters(app: Flask) -> None:
    """The converters the shop's routes name (`<order_number:number>`...)."""
    app.url_map.converters.update(
        slug=SlugConverter,
        id=RowIdConverter,
        order_number=OrderNumberConverter,
        quote_number=QuoteNumberConverter,
        invoice_number=InvoiceNumberConverter,
        credit_note_number=CreditNoteNumberConverter,
    )
