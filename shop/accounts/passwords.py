"""Password hashing (argon2) and the password policy.

The policy: at least PASSWORD_MIN_LENGTH characters, not on the common-password list shipped
with zxcvbn, and not easy to guess by zxcvbn's estimate (score 3 or better), taking the
person's own name and email into account.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MAX_LENGTH = 128
ZXCVBN_MAX_LENGTH = 72


@cache
def _hasher_for(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def _hasher() -> PasswordHasher:
    """The hasher with the configured cost; hashes made with another cost are upgraded on login."""
    config = current_app.config
    return _hasher_for(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_KIB"])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def _dummy_hash() -> str:
    """A hash at the configured cost, made once per cost (not per call: hashing it again on
    every unknown email would take as long as the check itself, and give the email away)."""
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("an unused password")
    return _dummy_hashes[key]


_dummy_hashes: dict[tuple[int, int], str] = {}


def burn_verification_time(password: str) -> None:
    """Verify against a dummy hash so an unknown email takes as long as a wrong password."""
    verify_password(_dummy_hash(), password)


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why `password` is not acceptable, in words for the person choosing it; None if it is fine."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _common_passwords():
        return "This password is on the list of commonly used passwords. Choose another one."
    inputs = [part for value in user_inputs if value for part in _pieces(value)]
    # zxcvbn refuses more than 72 characters (its cost grows quickly with length). Judging the
    # first 72 is conservative: more characters after them only make a password harder to guess.
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=inputs)
    if result["score"] < 3:
        warning = result["feedback"]["warning"] or "It follows a pattern that is easy to guess."
        return f"This password is too easy to guess. {warning} Try a few unrelated words."
    return None


def _pieces(value: str) -> list[str]:
    """An email or name split into the words an attacker would try."""
    cleaned = value.lower().replace("@", " ").replace(".", " ").replace("-", " ")
    return [value.lower(), *cleaned.split()]
