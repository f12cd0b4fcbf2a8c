"""Rate limits that hold in production: failed logins counted per account as well as per
address, the password change limited, the client's real address read from the configured
number of trusted proxies (and never from a header anyone can send), and production refusing
in-memory limits with several workers."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from shop import create_app
from shop.accounts.models import LoginSession
from shop.extensions import db, limiter
from tests.factories import PASSWORD, make_clinician
from tests.helpers import WebClient, text


def from_address(make_client, address: str) -> WebClient:
    browser = make_client()
    browser.raw.environ_base["REMOTE_ADDR"] = address
    return browser


def test_failed_logins_are_counted_per_account_from_every_address(app, make_client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per 15 minutes")
    make_clinician(email="ana@clinic.example")
    for n in range(3):
        attempt = from_address(make_client, f"203.0.113.{n + 1}")
        assert attempt.post("/login", {"email": "Ana@Clinic.example", "password": "Wrong-1"}).status_code == 200

    # A fourth address, even with the right password: the account waits.
    refused = from_address(make_client, "203.0.113.99").post(
        "/login", {"email": "ana@clinic.example", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert "Too many attempts" in text(refused)
    # Another account from the same addresses is not held back.
    make_clinician(email="ben@clinic.example")
    from_address(make_client, "203.0.113.1").login("ben@clinic.example", PASSWORD)


def test_successful_logins_do_not_count_against_the_account(app, make_client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "3 per 15 minutes")
    make_clinician(email="ana@clinic.example")
    for n in range(6):
        from_address(make_client, f"198.51.100.{n + 1}").login("ana@clinic.example", PASSWORD)


def test_changing_the_password_is_rate_limited(app, signed_in, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_CHANGE_RATE_LIMIT", "2 per hour")
    browser = signed_in(make_clinician(email="ana@clinic.example"))
    wrong = {"current_password": "Not-my-password", "password": "Fresh-orchard-lantern-2291", "confirm": "x"}
    for _ in range(2):
        assert browser.post("/account/password", wrong).status_code == 200
    assert browser.post("/account/password", wrong).status_code == 429
    assert browser.get("/account/password").status_code == 200, "the page itself still opens"


@pytest.fixture
def app_behind_a_proxy(ctx, app, app_config):
    application = create_app("testing", **app_config, TRUSTED_PROXIES=1)
    try:
        yield application
    finally:
        limiter.init_app(app)  # the limiter is shared: give it back to the suite's app
        with application.app_context():
            db.engine.dispose()


def _ip_of_the_login(browser: WebClient, email: str) -> str:
    browser.login(email, PASSWORD)
    db.session.rollback()
    return db.session.scalars(select(LoginSession.ip_address).order_by(LoginSession.id.desc())).first()


def test_behind_trusted_proxies_the_address_is_the_one_they_forward(app_behind_a_proxy):
    make_clinician(email="ana@clinic.example")
    browser = WebClient(app_behind_a_proxy.test_client())
    browser.raw.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    assert _ip_of_the_login(browser, "ana@clinic.example") == "203.0.113.50"


def test_without_trusted_proxies_a_forwarded_address_is_ignored(client):
    make_clinician(email="ana@clinic.example")
    client.raw.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.50"
    assert _ip_of_the_login(client, "ana@clinic.example") == "127.0.0.1"
    # Nor can a forged header buy fresh attempts:
    for n in range(10):
        client.raw.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{n}"
        client.post("/login", {"email": "ana@clinic.example", "password": "Wrong-1"})
    client.raw.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.200"
    assert client.post("/login", {"email": "ana@clinic.example", "password": "Wrong-1"}).status_code == 429


@pytest.fixture
def production_env(app, monkeypatch, database_url, tmp_path, shop_logger):
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-enough-length")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path / "uploads"))
    yield
    limiter.init_app(app)  # the limiter is shared: give it back to the suite's app


def test_production_refuses_in_memory_limits_with_several_workers(production_env, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI is memory:// with WEB_CONCURRENCY=4"):
        create_app("production")


def test_production_with_one_worker_says_loudly_that_limits_are_per_process(production_env, caplog):
    with caplog.at_level(logging.WARNING, logger="shop"):
        application = create_app("production")
    with application.app_context():
        db.engine.dispose()
    assert any("counted per process" in record.getMessage() for record in caplog.records)


def test_production_with_redis_limits_starts_quietly_with_several_workers(production_env, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    with caplog.at_level(logging.WARNING, logger="shop"):
        application = create_app("production")
    with application.app_context():
        db.engine.dispose()
    assert not any("per process" in record.getMessage() for record in caplog.records)
