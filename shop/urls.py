"""Building links: absolute ones for email, checking `next` targets for redirects, and the
routes of a table of posts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Blueprint, current_app


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
