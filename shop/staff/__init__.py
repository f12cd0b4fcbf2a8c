"""The back office, for staff and admins only."""

from flask import Blueprint

from shop.access import Policy, protect

bp = Blueprint("staff", __name__, url_prefix="/staff")
protect(bp, Policy.STAFF)

# Row ids in URLs: database integer keys are 32-bit, and a larger number would make the
# database driver raise instead of finding nothing, so it is a 404 at routing time.
ROW_ID = "int(max=2147483647)"

from shop.staff import applications, outbox, users, views  # noqa: E402,F401  (routes)
