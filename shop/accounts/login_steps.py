"""The steps of a login in the browser: after the password, a login that needs a second factor
waits in the session (for a few minutes, and for a few wrong codes) until the code is given or
the authenticator is set up; then the login session starts."""

from __future__ import annotations

from flask import request, session, url_for
from flask_login import login_user

from shop import clock
from shop.accounts import sessions
from shop.accounts.models import User
from shop.extensions import db
from shop.urls import safe_next

PENDING = "pending_login"
PENDING_SECONDS = 5 * 60
MAX_WRONG_CODES = 5


def sign_in(user: User) -> None:
    """A new login starts a new browser session: nothing from before it (its CSRF token above
    all) carries over."""
    sessions.start_session(user, user_agent=request.user_agent.string, ip_address=request.remote_addr or "")
    session.clear()
    login_user(user)


def landing(user: User) -> str:
    if user.is_staff:
        return url_for("staff.dashboard")
    return url_for("catalogue.index") if user.is_verified(clock.today()) else url_for("account.status")


def hold(user: User, next_url: str | None) -> None:
    """The password was right; the login waits for the second factor."""
    session.clear()
    session[PENDING] = {"user": user.id, "at": clock.now().timestamp(), "next": safe_next(next_url) or "", "wrong": 0}


def held_user() -> User | None:
    """The user whose login waits for a second factor, if it has not lapsed."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None
    if clock.now().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, pending["user"])
    return user if user is not None and user.active else None


def wrong_code() -> bool:
    """Count a wrong code; False once there were too many and the login was dropped."""
    pending = dict(session.get(PENDING) or {})
    pending["wrong"] = int(pending.get("wrong", 0)) + 1
    if pending["wrong"] >= MAX_WRONG_CODES:
        session.pop(PENDING, None)
        return False
    session[PENDING] = pending
    return True


def finish(user: User) -> str:
    """Sign the held login in; returns where it was going."""
    pending = session.get(PENDING) or {}
    target = safe_next(pending.get("next")) or landing(user)
    sign_in(user)
    return target


def code_limit_key() -> str:
    """Code attempts are limited per account waiting for one (or per address without one)."""
    pending = session.get(PENDING)
    if isinstance(pending, dict) and isinstance(pending.get("user"), int):
        return f"second-factor:{pending['user']}"
    return f"second-factor:{request.remote_addr}"
