"""The second factor: an authenticator app's one-time codes (TOTP, RFC 6238) and ten
single-use recovery codes.

Staff and admins must have one; a clinician may turn one on. A code counts once: the factor
keeps the last time step it accepted and takes only a later one, through one conditional
UPDATE, so two requests carrying the same code cannot both pass. Recovery codes carry 80 random
bits each, so a plain SHA-256 of them is stored, never the codes; each is spent by another
conditional UPDATE. A factor that ends (turned off, replaced, reset by an admin) keeps its row,
with when and by whom, so a reset stays on record.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
import segno
from flask import current_app
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import selectinload

from shop import clock
from shop.accounts.models import RecoveryCode, SecondFactor, User
from shop.accounts.passwords import verify_password
from shop.accounts.sessions import revoke_all_sessions
from shop.accounts.users import email_security_change
from shop.core import audit
from shop.core.db import unit_of_work
from shop.errors import NotEligible, WrongCode, WrongPassword
from shop.extensions import db

STEP_SECONDS = 30
# A code from the step before or after the current one still counts: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


# --- what a login asks for ---------------------------------------------------------------------


# A factor in use: confirmed with a first code, and not ended since.
IN_USE = and_(SecondFactor.confirmed_at.is_not(None), SecondFactor.ended_at.is_(None))


def active_factor(user: User) -> SecondFactor | None:
    return db.session.scalar(
        select(SecondFactor).where(SecondFactor.user_id == user.id, IN_USE).order_by(SecondFactor.id.desc()).limit(1)
    )


def login_step(user: User) -> str | None:
    """What a login with the right password still needs: "code" (the account has a second
    factor), "enrol" (a staff account without one) or None (a clinician who has not turned it on)."""
    if active_factor(user) is not None:
        return "code"
    return "enrol" if user.is_staff else None


def recovery_codes_left(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


# --- setting one up ----------------------------------------------------------------------------


def start_enrolment(user: User) -> SecondFactor:
    """The factor being set up for `user`: the one started earlier, or a new secret."""
    pending = db.session.scalar(
        select(SecondFactor)
        .where(SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_(None), SecondFactor.ended_at.is_(None))
        .order_by(SecondFactor.id.desc())
        .limit(1)
    )
    if pending is not None:
        return pending
    with unit_of_work():
        pending = SecondFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=clock.now())
        db.session.add(pending)
    return pending


def provisioning_uri(factor: SecondFactor, user: User) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=current_app.config["SHOP_NAME"])


def qr_code_svg(uri: str) -> str:
    """The QR code of `uri` as an inline SVG element, drawn here (nothing leaves the server)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title="QR code of your authenticator key")


def grouped(secret: str) -> str:
    """The key as a person types it into an app: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Put the factor being set up into use once `code` from the app matches it, replacing any
    earlier factor; returns the new recovery codes (shown once). Every login of the account
    ends; the caller starts this browser's again."""
    pending = start_enrolment(user)
    step = _matching_step(pending.secret, code)
    if step is None:
        raise WrongCode("That code does not match. Type the six digits your app shows now.", field="code")
    now = clock.now()
    with unit_of_work():
        previous = active_factor(user)
        if previous is not None:
            previous.ended_at, previous.ended_by_id = now, user.id
        pending.confirmed_at, pending.last_used_step = now, step
        codes = _replace_recovery_codes(user)
        revoke_all_sessions(user)
        email_security_change(user, "The second factor")
        if user.is_staff:
            audit.record(user, "staff.second_factor_set_up", user)
    return codes


# --- using one ---------------------------------------------------------------------------------


def check_code(user: User, code: str) -> bool:
    """Whether `code` is a current authenticator code or an unused recovery code of `user`'s
    factor; either is spent by being accepted."""
    factor = active_factor(user)
    if factor is None or not code:
        return False
    with unit_of_work():
        accepted = _accept(user, factor, code)
        if not accepted and user.is_staff:
            audit.record(None, "staff.login_code_failed", user)
    return accepted


def _accept(user: User, factor: SecondFactor, code: str) -> bool:
    step = _matching_step(factor.secret, code)
    if step is not None:
        return _spend(
            update(SecondFactor)
            .where(
                SecondFactor.id == factor.id,
                or_(SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step),
            )
            .values(last_used_step=step)
        )
    return _spend(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=clock.now())
    )


def _spend(statement) -> bool:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount == 1


def _matching_step(secret: str, code: str) -> int | None:
    digits = "".join((code or "").split())
    if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = int(clock.now().timestamp()) // STEP_SECONDS
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), digits):
            return step
    return None


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    now = clock.now()
    codes = [_new_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(c), created_at=now) for c in codes)
    return codes


# --- changing one ------------------------------------------------------------------------------


def new_recovery_codes(user: User, code: str) -> list[str]:
    """Ten fresh recovery codes in place of the old ones, once a current code confirms it."""
    if not check_code(user, code):
        raise WrongCode("That code is not right. Type a current code from your app.", field="code")
    with unit_of_work():
        codes = _replace_recovery_codes(user)
        email_security_change(user, "The recovery codes", logins_ended=False)
    return codes


def turn_off(user: User, password: str, code: str) -> None:
    """A clinician stops using a second factor; staff accounts must keep theirs."""
    if user.is_staff:
        raise NotEligible("Staff accounts keep a second factor. You can set up a new authenticator instead.")
    if not verify_password(user.password_hash, password):
        raise WrongPassword("Your password is not correct.", field="password")
    if not check_code(user, code):
        raise WrongCode("That code is not right. Type a current code from your app.", field="code")
    with unit_of_work():
        _end(user, ended_by=user)
        email_security_change(user, "The second factor", logins_ended=False)


def reset(admin: User, member: User) -> None:
    """An admin clears a colleague's second factor (a lost phone): every login of theirs ends,
    they set up a new one at their next login, and the reset stays on record."""
    if not admin.is_admin:
        raise NotEligible("Only an administrator can reset a second factor.")
    if member.id == admin.id:
        raise NotEligible("Another administrator must reset your own second factor.")
    if active_factor(member) is None:
        raise NotEligible(f"{member.full_name} has no second factor to reset.")
    with unit_of_work():
        _end(member, ended_by=admin)
        revoke_all_sessions(member)
        email_security_change(member, "The second factor")
        audit.record(admin, "user.second_factor_reset", member)


def _end(user: User, *, ended_by: User) -> None:
    now = clock.now()
    db.session.execute(
        update(SecondFactor)
        .where(SecondFactor.user_id == user.id, SecondFactor.ended_at.is_(None))
        .values(ended_at=now, ended_by_id=ended_by.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def last_resets(members: list[User]) -> dict[int, SecondFactor]:
    """Each member's most recent factor that an admin ended (not the member), for the staff list."""
    rows = db.session.scalars(
        select(SecondFactor)
        .where(
            SecondFactor.user_id.in_([m.id for m in members]),
            SecondFactor.ended_by_id.is_not(None),
            SecondFactor.ended_by_id != SecondFactor.user_id,
        )
        .options(selectinload(SecondFactor.ended_by))
        .order_by(SecondFactor.ended_at)
    ).all()
    return {row.user_id: row for row in rows}


def factors_of(members: list[User]) -> dict[int, SecondFactor]:
    """Each member's factor in use, for the staff list."""
    rows = db.session.scalars(
        select(SecondFactor).where(
            SecondFactor.user_id.in_([m.id for m in members]),
            IN_USE,
        )
    ).all()
    return {row.user_id: row for row in rows}
