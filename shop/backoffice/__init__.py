"""The back office, for staff and admins only: the `staff` blueprint, its dashboard and the mail
log. Each part of the business adds its own desk's pages to this blueprint from its
`staff_views`; nothing here imports them (the factory does)."""

from flask import Blueprint

from shop.access import Policy, protect

bp = Blueprint("staff", __name__, url_prefix="/staff")
protect(bp, Policy.STAFF)
