"""Signing in and out.

A login is a row in `login_sessions`; the browser's signed cookie holds only a random token
whose hash is that row's key. Logging out, changing the password or deactivating the account
revokes rows, so a copied cookie stops working at once. A login also ends after
LOGIN_IDLE_MINUTES without a request (staff; clinicians LOGIN_IDLE_MINUTES_CLINICIAN), and
after LOGIN_SESSION_HOURS whatever happens. The account's security page lists its live logins.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from shop import clock
from shop.accounts.models import LoginSession, User, user_with_email
from shop.accounts.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from shop.core import audit
from shop.core.db import unit_of_work
from shop.errors import NotEligible, NotFound
from shop.extensions import db


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Takes the same time either way."""
    user = user_with_email(email)
    if user is None:
        burn_verification_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        if user.is_staff:
            with unit_of_work():
                audit.record(None, "staff.login_failed", user, note="Wrong password or inactive account")
        return None
    if needs_rehash(user.password_hash):
        with unit_of_work():
            user.password_hash = hash_password(password)
    return user


def start_session(user: User, *, user_agent: str = "", ip_address: str = "", login: bool = True) -> str:
    """Open a login session for `user`; returns the token to keep in the cookie. A staff
    member's login is audited (`login=False`: a new token for a browser already signed in)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with unit_of_work():
        db.session.add(
            LoginSession(
                user_id=user.id,
                token_hash=_hash_token(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=current_app.config["LOGIN_SESSION_HOURS"]),
                user_agent=(user_agent or "")[:255],
                ip_address=(ip_address or "")[:45],
            )
        )
        if login and user.is_staff:
            audit.record(user, "staff.logged_in", user, note=device_of(user_agent or ""))
    user.login_token = token
    return token


@cache
def _session_by_token() -> Select:
    """The login session with the token hash TOKEN_HASH (a parameter), its user with their
    licence and practice, which every page asks about (the gate, the header, prices): one
    statement instead of four, made once (every request runs it)."""
    user = joinedload(LoginSession.user)
    return (
        select(LoginSession)
        .where(LoginSession.token_hash == bindparam("token_hash"))
        .options(user.joinedload(User.application), user.joinedload(User.practice))
    )


def load_session_user(token: str) -> User | None:
    """The user behind a live session token, or None if it ended, expired or never existed."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(_session_by_token(), {"token_hash": _hash_token(token)})
    now = clock.now()
    if row is None or not row.is_live(now) or not row.user.active:
        return None
    if now - row.last_seen_at > idle_limit(row.user):
        with unit_of_work():
            row.revoked_at = now
        return None
    if now - row.last_seen_at > SEEN_EVERY:
        with unit_of_work():
            db.session.execute(
                update(LoginSession)
                .where(LoginSession.id == row.id)
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
        row.last_seen_at = now
    row.user.login_token = token
    return row.user


# How often a login's last request is written down: the idle limit is counted in minutes, and
# a write on every request would cost every page a statement.
SEEN_EVERY = timedelta(minutes=1)


def idle_limit(user: User) -> timedelta:
    config = current_app.config
    return timedelta(minutes=config["LOGIN_IDLE_MINUTES" if user.is_staff else "LOGIN_IDLE_MINUTES_CLINICIAN"])


def end_session(token: str | None) -> None:
    if not token:
        return
    with unit_of_work():
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == _hash_token(token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def revoke_all_sessions(user: User) -> None:
    """End every login of `user`; the caller commits."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def live_sessions(user: User) -> list[LoginSession]:
    """The account's logins that still work, the most recently used first."""
    now = clock.now()
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None), LoginSession.expires_at > now)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    ).all()
    limit = idle_limit(user)
    return [row for row in rows if now - row.last_seen_at <= limit]


def is_this_browser(row: LoginSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _hash_token(token)


def end_session_of(user: User, session_id: int, *, token: str | None) -> None:
    """End one of the account's own logins in another browser (this one logs out instead)."""
    row = db.session.get(LoginSession, session_id)
    if row is None or row.user_id != user.id:
        raise NotFound("There is no such login.")
    if is_this_browser(row, token):
        raise NotEligible("That is the login of this browser: use Log out to end it.")
    with unit_of_work():
        if row.revoked_at is None:
            row.revoked_at = clock.now()


def end_other_sessions(user: User, token: str | None) -> int:
    """End every login of the account but this browser's; returns how many ended."""
    with unit_of_work():
        ended = db.session.execute(
            update(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.revoked_at.is_(None),
                LoginSession.token_hash != _hash_token(token or ""),
            )
            .values(revoked_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    return ended.rowcount


BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device_of(user_agent: str) -> str:
    """A login's browser and system in words ("Firefox on Windows"), as far as its user agent says."""
    browser = next((name for marker, name in BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "An unknown browser"
