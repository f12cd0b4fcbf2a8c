"""The password policy (password_problem) and argon2 hashing."""

from __future__ import annotations

import pytest

from shop.accounts.passwords import hash_password, password_problem, verify_password
from tests.factories import PASSWORD

NIAMH = ("niamh.walsh@clinic.example", "Dr Niamh Walsh", "Harbour Skin Clinic")


@pytest.mark.parametrize(
    "password",
    [PASSWORD, "correct horse battery staple", "Orchid-ket7!", "Grüße-aus-Köln-2026", "x7#Qp!v2@Lm9$Rt4" * 8],
    ids=["factory", "passphrase", "exactly-12", "unicode", "exactly-128"],
)
def test_a_long_unusual_password_is_accepted(password):
    assert password_problem(password) is None


def test_a_password_one_character_short_of_the_minimum_is_refused_with_the_minimum_named():
    assert password_problem("Orchid-ke7!") == "Use at least 12 characters."


def test_an_empty_password_is_refused():
    assert password_problem("") == "Use at least 12 characters."


def test_the_minimum_length_comes_from_configuration(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "PASSWORD_MIN_LENGTH", 16)
    assert password_problem("Orchid-ket7!") == "Use at least 16 characters."
    assert password_problem("Orchid-kettle-77!") is None


def test_a_passphrase_longer_than_zxcvbn_accepts_is_judged_not_crashed_on():
    """zxcvbn itself raises for more than 72 characters; the policy allows up to 128."""
    assert password_problem("Velvet-harbour-lantern-42 " * 4) is None
    assert "easy to guess" in password_problem("a" * 100)
    assert "easy to guess" in password_problem("a" * 72 + "x7#Qp!v2@Lm9$Rt4")


def test_a_password_over_128_characters_is_refused():
    assert password_problem("x7#Qp!v2@Lm9$Rt4" * 8 + "z") == "Use at most 128 characters."


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "PASSWORD1234", "Qwertyuiop123", "1qaz2wsx3edc"])
def test_a_password_on_the_common_list_is_refused_whatever_its_capitals(password):
    problem = password_problem(password)
    assert problem is not None
    assert "commonly used" in problem


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaaaaaa",
        "abcdefghijklmnop",
        "monkeymonkeymonkey",
        "Passw0rd!Passw0rd!",
        "iloveyou1234",
        "123456789012",
    ],
    ids=["repeats", "sequence", "repeated-word", "repeated-leet", "similar-to-common", "digits"],
)
def test_a_password_that_is_easy_to_guess_is_refused_with_a_hint(password):
    problem = password_problem(password)
    assert problem is not None
    assert problem.startswith("This password is too easy to guess.")
    assert len(problem) > len("This password is too easy to guess. ")


@pytest.mark.parametrize(
    ("password", "inputs"),
    [
        ("harbourniamh", NIAMH),
        ("fairweatherquillon", ("quillon.fairweather@clinic.example",)),
        ("fairweather2026", ("Quillon Fairweather",)),
    ],
    ids=["name-and-practice", "from-email", "from-name"],
)
def test_a_password_built_from_the_persons_own_details_is_refused(password, inputs):
    assert password_problem(password) is None, "the example must be fine for anyone else"
    problem = password_problem(password, user_inputs=inputs)
    assert problem is not None
    assert "easy to guess" in problem


def test_empty_personal_details_are_ignored():
    assert password_problem(PASSWORD, user_inputs=("", "", "")) is None


def test_the_message_never_repeats_the_password():
    for password in ("password1234", "aaaaaaaaaaaaaaaa", "harbourniamh"):
        problem = password_problem(password, user_inputs=NIAMH)
        assert password not in problem


def test_a_hashed_password_verifies_and_a_wrong_one_does_not():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password("!unset", PASSWORD)
    assert hash_password(PASSWORD) != hashed
