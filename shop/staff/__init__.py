"""The back office, for staff and admins only."""

from flask import Blueprint

from shop.access import Policy, protect

bp = Blueprint("staff", __name__, url_prefix="/staff")
protect(bp, Policy.STAFF)

from shop.staff import applications, orders, outbox, practices, quotes, users, views  # noqa: E402,F401  (routes)
