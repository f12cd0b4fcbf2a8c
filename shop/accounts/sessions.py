"""Signing in and out.

A login is a row in `login_sessions`; the browser's signed cookie holds only a random token
whose hash is that row's key. Logging out, changing the password or deactivating the account
revokes rows, so a copied cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from shop import clock
from shop.accounts.models import LoginSession, User, normalise_email
from shop.accounts.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from shop.core.db import unit_of_work
from shop.extensions import db


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None. Takes the same time either way."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        burn_verification_time(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        with unit_of_work():
            user.password_hash = hash_password(password)
    return user


def start_session(user: User, *, user_agent: str = "", ip_address: str = "") -> str:
    """Open a login session for `user`; returns the token to keep in the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with unit_of_work():
        db.session.add(
            LoginSession(
                user_id=user.id,
                token_hash=_hash_token(token),
                created_at=now,
                expires_at=now + timedelta(hours=current_app.config["LOGIN_SESSION_HOURS"]),
                user_agent=(user_agent or "")[:255],
                ip_address=(ip_address or "")[:45],
            )
        )
    user.login_token = token
    return token


def load_session_user(token: str) -> User | None:
    """The user behind a live session token, or None if it ended, expired or never existed."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == _hash_token(token)))
    if row is None or not row.is_live(clock.now()) or not row.user.active:
        return None
    row.user.login_token = token
    return row.user


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
