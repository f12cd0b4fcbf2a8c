"""Who may reach what. Access is denied by default.

Every endpoint declares a policy, on the view (`@allow(...)`) or for its whole blueprint
(`protect(bp, ...)`); one `before_request` hook enforces it before any view code runs, so a
view that forgets to declare one is refused, not exposed.

Within the back office, each desk's pages belong to their desk (`desk_pages(__name__, desk)`
in the module that defines them): a staff member works only the desks an admin gave them, and
admins work every desk. A page another desk needs for context says so (`@readable_by(...)`):
those desks may open it, but not post to it.
"""

from __future__ import annotations

from enum import StrEnum

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from shop import clock
from shop.core.enums import LabelledEnum


class Policy(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not
    AUTHENTICATED = "authenticated"  # any signed-in account
    CLINICIAN = "clinician"  # any signed-in clinician, verified or not
    VERIFIED = "verified"  # clinicians whose licence staff approved and which is still valid
    # Members of a practice whose licence staff approved once, lapsed since included: their
    # history (orders, quotes, invoices) stays theirs to read while they cannot order.
    MEMBER = "member"
    CATALOGUE = "catalogue"  # verified clinicians and staff
    STAFF = "staff"  # staff and admins
    ADMIN = "admin"


class Desk(LabelledEnum):
    VERIFICATION = "verification", "Verification"
    ORDERS = "orders", "Orders"
    QUOTES = "quotes", "Quotes"
    CUSTOMERS = "customers", "Customers (practices, terms and credit)"
    CATALOGUE = "catalogue", "Catalogue and stock"
    FINANCE = "finance", "Finance (invoices, payments, credit notes)"
    RECALLS = "recalls", "Recalls (lots recalled by the manufacturer)"
    AUDIT = "audit", "Audit log (read only)"


# The desks a staff account made by an operator (create-user) works, and those an existing
# account was given when desks began: every desk of the daily work.
WORK_DESKS = frozenset({Desk.VERIFICATION, Desk.ORDERS, Desk.QUOTES, Desk.CUSTOMERS})

_BLUEPRINT_POLICIES: dict[str, Policy] = {}
_MODULE_DESKS: dict[str, Desk] = {}


def allow(policy: Policy):
    """Declare the policy of one view; put it below the route decorator."""

    def decorate(view):
        view.access_policy = policy
        return view

    return decorate


def protect(blueprint: Blueprint, policy: Policy) -> None:
    """Declare the policy for every view of a blueprint that does not declare its own."""
    _BLUEPRINT_POLICIES[blueprint.name] = policy


def desk_pages(module: str, desk: Desk) -> None:
    """Declare that every view defined in `module` belongs to `desk`."""
    _MODULE_DESKS[module] = desk


def readable_by(*desks: Desk):
    """Let these desks open the view (GET) for context, besides its own desk."""

    def decorate(view):
        view.read_desks = frozenset(desks)
        return view

    return decorate


def desk_for(endpoint: str) -> Desk | None:
    """The desk whose page `endpoint` is, if it is one of a desk's pages."""
    view = current_app.view_functions.get(endpoint)
    return _MODULE_DESKS.get(getattr(view, "__module__", ""))


def may_open(user, endpoint: str, method: str = "GET") -> bool:
    """Whether a staff member may use this back-office page with this method."""
    desk = desk_for(endpoint)
    if desk is None or user.works(desk):
        return True
    view = current_app.view_functions.get(endpoint)
    readers = getattr(view, "read_desks", frozenset())
    return method in ("GET", "HEAD") and any(user.works(reader) for reader in readers)


def policy_for(endpoint: str) -> Policy | None:
    if endpoint == "static":
        return Policy.PUBLIC
    view = current_app.view_functions.get(endpoint)
    declared = getattr(view, "access_policy", None)
    if declared is not None:
        return declared
    blueprint = endpoint.rpartition(".")[0]
    return _BLUEPRINT_POLICIES.get(blueprint)


def is_verified_clinician(user) -> bool:
    """Whether `user` may see the catalogue and buy, computed once per request."""
    if not user.is_authenticated:
        return False
    if "verified" not in g:
        g.verified = user.is_verified(clock.today())
    return g.verified


def sees_history(user) -> bool:
    """Whether `user` may read their practice's history: verified, or verified once and still a
    member (a lapsed licence, a renewal under review). Computed once per request."""
    if not user.is_authenticated:
        return False
    if "history" not in g:
        g.history = is_verified_clinician(user) or user.was_verified()
    return g.history


def enforce_access():
    """The app-wide gate, run before every request."""
    if request.endpoint is None:
        return None  # routing already failed: 404 or 405
    policy = policy_for(request.endpoint)
    if policy is None:
        abort(403)
    if policy == Policy.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=_current_path()))
    if policy == Policy.AUTHENTICATED:
        return None
    if policy in (Policy.STAFF, Policy.ADMIN):
        if not current_user.is_staff or (policy == Policy.ADMIN and not current_user.is_admin):
            abort(403)
        if not may_open(current_user, request.endpoint, request.method):
            abort(403)
        return None
    if policy == Policy.CATALOGUE and current_user.is_staff:
        return None
    if not current_user.is_clinician:
        abort(403)
    if policy == Policy.MEMBER and sees_history(current_user):
        return None
    if policy in (Policy.VERIFIED, Policy.CATALOGUE, Policy.MEMBER) and not is_verified_clinician(current_user):
        flash(_why_closed(current_user), "info")
        return redirect(url_for("account.status"))
    return None


def _why_closed(user) -> str:
    application = user.application
    if application is not None and application.lapsed(clock.today()):
        return (
            f"Your licence on file expired on {application.licence_expiry:%d %b %Y}, so the catalogue is closed to "
            "your account until we verify a renewed one. Upload it on this page."
        )
    if application is not None and application.grants_access(clock.today()) and user.practice_id is None:
        return (
            "You are no longer a member of a practice, so the catalogue is closed to your account. Ask a practice's "
            "owner to invite you, or call customer care."
        )
    return "Your account is not verified yet, so the catalogue is not open to you."


def _current_path() -> str:
    path = request.full_path
    return path[:-1] if path.endswith("?") else path
