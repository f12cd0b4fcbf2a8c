"""Security settings a deployment relies on: cookie flags, what production refuses to start
without, CSRF on every form, and the login rate limit (in memory and in Redis)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from config import _env_int, config_for, normalise_database_url
from shop import clock, create_app
from shop.accounts.licences import ApplicationStatus, LicenceApplication
from shop.accounts.models import LoginSession, User
from shop.catalogue.models import Product
from shop.core.outbox import OutboxMessage
from shop.extensions import db, limiter
from tests.conftest import need
from tests.factories import PASSWORD, make_applicant, make_clinician, make_staff, registration_form, simple_quote
from tests.helpers import WebClient, field_error, redirect_path, row_count, text

REDIS_URL = "redis://127.0.0.1:6379"
PRODUCTION_COOKIE = "__Host-session"
CSRF_MESSAGE = "Your form expired or came from another page. Please try again."


def _session_set_cookie(response, name: str = "session") -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(f"{name}=")]
    assert cookies, "the response sets no session cookie"
    return cookies[-1]


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().lower() for part in set_cookie.split(";")[1:]}


# --- cookies ----------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_and_same_site_lax(client):
    make_clinician(email="ana@clinic.example")
    flags = _flags(_session_set_cookie(client.login("ana@clinic.example", PASSWORD)))
    assert "httponly" in flags
    assert "samesite=lax" in flags
    # Outside production the shop also runs on plain http (make run), so not Secure there.
    assert "secure" not in flags


@pytest.fixture
def production_env(monkeypatch, database_url, tmp_path, shop_logger):
    secret = secrets.token_hex(32)
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path / "uploads"))
    return secret


@pytest.fixture
def production_app(production_env, tmp_path):
    application = create_app("production", UPLOAD_FOLDER=str(tmp_path / "uploads"))
    yield application
    with application.app_context():
        db.engine.dispose()
    limiter.reset()


def test_production_sets_secure_http_only_same_site_lax_session_cookies(production_app):
    browser = production_app.test_client()
    response = browser.get("/", base_url="https://shop.example.com")
    assert response.status_code == 200
    flags = _flags(_session_set_cookie(response, PRODUCTION_COOKIE))
    assert {"secure", "httponly", "samesite=lax"} <= flags


def test_production_names_the_session_cookie_for_this_host_only(production_app):
    """The __Host- prefix: browsers take the cookie only if it is Secure, for "/", with no Domain."""
    response = production_app.test_client().get("/", base_url="https://shop.example.com")
    set_cookie = _session_set_cookie(response, PRODUCTION_COOKIE)
    assert "path=/" in _flags(set_cookie)
    assert not any(flag.startswith("domain=") for flag in _flags(set_cookie))
    assert not [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]


def test_production_tells_browsers_to_use_https_only(production_app):
    response = production_app.test_client().get("/", base_url="https://shop.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_outside_production_no_https_is_demanded(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_seed_demo_refuses_to_create_its_published_accounts_in_production(production_app):
    with production_app.app_context():
        result = production_app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code != 0
        assert "does not run under SHOP_ENV=production" in result.output
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_production_uses_the_secret_key_and_database_from_the_environment(production_env, production_app, database_url):
    assert production_app.config["SECRET_KEY"] == production_env
    assert production_app.config["SQLALCHEMY_DATABASE_URI"] == normalise_database_url(database_url)
    assert production_app.config["SESSION_COOKIE_SECURE"] is True


def _log_in_over_https(production_app, referer: str):
    """Ana posts the production shop's login form over https, the browser saying it came from
    `referer`. Returns her browser and the response."""
    make_clinician(email="ana@clinic.example")
    browser = production_app.test_client()
    page = browser.get("/login", base_url="https://shop.example.com").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/login",
        data={"email": "ana@clinic.example", "password": PASSWORD, "csrf_token": token},
        base_url="https://shop.example.com",
        # Over https Flask-WTF also checks that the form came from this site, as a browser says.
        headers={"Referer": referer},
    )
    return browser, response


def test_a_clinician_can_log_in_to_a_production_shop_over_https(production_app):
    browser, response = _log_in_over_https(production_app, "https://shop.example.com/login")
    assert response.status_code == 303
    assert response.headers["Location"] == "/catalogue"
    assert "secure" in _flags(_session_set_cookie(response, PRODUCTION_COOKIE))
    assert browser.get("/catalogue", base_url="https://shop.example.com").status_code == 200


def test_production_refuses_a_form_posted_from_another_site(production_app):
    _, response = _log_in_over_https(production_app, "https://evil.example/phish")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert row_count(LoginSession) == 0


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, ["SECRET_KEY", "DATABASE_URL"]),
        ({"DATABASE_URL": "postgresql://shop@db.internal/shop"}, ["SECRET_KEY"]),
        ({"SECRET_KEY": "a-long-random-secret"}, ["DATABASE_URL"]),
    ],
)
def test_production_refuses_to_start_without_a_secret_key_or_a_database_url(monkeypatch, shop_logger, present, missing):
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError) as refused:
        config_for("production")
    assert str(refused.value) == "SHOP_ENV=production needs these environment variables: " + ", ".join(missing)
    with pytest.raises(RuntimeError, match="needs these environment variables"):
        create_app("production")


def test_production_is_chosen_by_shop_env_and_refuses_without_secrets(monkeypatch, shop_logger):
    monkeypatch.setenv("SHOP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_an_unknown_shop_env_is_a_clear_error():
    with pytest.raises(RuntimeError, match="SHOP_ENV must be one of development, testing, production"):
        config_for("staging")


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"TAX_RATE_PERCENT": "twenty"}, "TAX_RATE_PERCENT: not a percentage: 'twenty'"),
        ({"TAX_RATE_PERCENT": "123"}, "TAX_RATE_PERCENT: a tax rate must be between 0 and 100 percent, not 123"),
        ({"SHIPPING_FLAT_CENTS": -1}, "SHIPPING_FLAT_CENTS cannot be negative"),
        ({"FREE_SHIPPING_THRESHOLD_CENTS": -500}, "FREE_SHIPPING_THRESHOLD_CENTS cannot be negative"),
        ({"ORDER_PAYMENT_MINUTES": 0}, "ORDER_PAYMENT_MINUTES must be between 1 and 1380"),
        ({"ORDER_PAYMENT_MINUTES": 1_381}, "ORDER_PAYMENT_MINUTES must be between 1 and 1380"),
    ],
)
def test_the_shop_refuses_to_start_with_a_setting_every_checkout_would_trip_over(shop_logger, setting, problem):
    with pytest.raises(RuntimeError) as refused:
        create_app("testing", **setting)
    assert str(refused.value).startswith("Invalid settings: ") and problem in str(refused.value)


def test_a_whole_number_setting_that_is_not_one_is_named_in_the_error(monkeypatch):
    monkeypatch.setenv("SHIPPING_FLAT_CENTS", "15.00")
    with pytest.raises(RuntimeError, match="SHIPPING_FLAT_CENTS must be a whole number, not '15.00'"):
        _env_int("SHIPPING_FLAT_CENTS", 1500)
    monkeypatch.setenv("SHIPPING_FLAT_CENTS", "900")
    assert _env_int("SHIPPING_FLAT_CENTS", 1500) == 900


# --- CSRF -------------------------------------------------------------------------------


def _refused_for_csrf(client, response) -> None:
    assert response.status_code == 303
    assert CSRF_MESSAGE in text(client.get(redirect_path(response) or "/"))


def test_a_login_without_a_csrf_token_is_refused_and_logs_nobody_in(client):
    make_clinician(email="ana@clinic.example")
    response = client.post("/login", {"email": "ana@clinic.example", "password": PASSWORD}, csrf=False)
    _refused_for_csrf(client, response)
    assert row_count(LoginSession) == 0
    assert redirect_path(client.get("/catalogue")).startswith("/login?next=")


@pytest.mark.parametrize(
    "referrer",
    [
        "http://localhost//evil.example/login",
        "http://localhost/\\evil.example",
        "https://evil.example/account",
        "http://localhost/%0d%0aSet-Cookie:x=1",
    ],
)
def test_a_csrf_failure_never_sends_the_browser_off_the_site(client, referrer):
    response = client.post(
        "/login", {"email": "ana@clinic.example", "password": PASSWORD}, csrf=False, headers={"Referer": referrer}
    )
    assert response.status_code == 303
    location = redirect_path(response)
    assert location == "/" or (location.startswith("/") and not location.startswith("//")), location
    assert "evil.example" not in response.headers["Location"]


def test_a_csrf_failure_goes_back_to_the_page_of_the_site_it_came_from(client):
    response = client.post(
        "/login", {"email": "ana@clinic.example"}, csrf=False, headers={"Referer": "http://localhost/login?next=/cart"}
    )
    assert redirect_path(response) == "/login"


def test_a_login_with_a_forged_csrf_token_is_refused(client):
    make_clinician(email="ana@clinic.example")
    response = client.post(
        "/login", {"email": "ana@clinic.example", "password": PASSWORD, "csrf_token": "forged"}, csrf=False
    )
    _refused_for_csrf(client, response)
    assert row_count(LoginSession) == 0


def test_a_registration_without_a_csrf_token_is_refused_and_creates_no_account(client):
    response = client.post("/register", registration_form(), csrf=False, content_type="multipart/form-data")
    _refused_for_csrf(client, response)
    assert row_count(User) == 0
    assert row_count(LicenceApplication) == 0
    assert row_count(OutboxMessage) == 0


def test_a_logout_without_a_csrf_token_is_refused_and_the_session_goes_on(client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    response = client.post("/logout", csrf=False)
    _refused_for_csrf(client, response)
    assert client.get("/catalogue").status_code == 200
    assert db.session.scalar(select(LoginSession.revoked_at)) is None


def test_a_staff_decision_without_a_csrf_token_is_refused_and_changes_nothing(client):
    applicant = make_applicant(email="pending@clinic.example")
    application_id = applicant.application.id
    make_staff(email="desk@supplier.example")
    client.login("desk@supplier.example", PASSWORD)
    mail_before = row_count(OutboxMessage)

    response = client.post(f"/staff/applications/{application_id}/approve", {"note": "Looks fine"}, csrf=False)

    _refused_for_csrf(client, response)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, application_id).status == ApplicationStatus.PENDING
    assert row_count(OutboxMessage) == mail_before


def test_a_password_change_without_a_csrf_token_is_refused_and_keeps_the_old_password(client, make_client):
    user = make_clinician(email="ana@clinic.example")
    before = user.password_hash
    client.login("ana@clinic.example", PASSWORD)
    new = "Copper-meadow-violin-88"
    response = client.post(
        "/account/password", {"current_password": PASSWORD, "password": new, "confirm": new}, csrf=False
    )
    _refused_for_csrf(client, response)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
    make_client().login("ana@clinic.example", PASSWORD)


# --- rate limit -------------------------------------------------------------------------


def _attempts_until_refused(client, email: str, limit: int) -> None:
    for attempt in range(limit):
        response = client.post("/login", {"email": email, "password": f"Wrong-password-{attempt}"})
        assert response.status_code == 200, f"attempt {attempt + 1} was refused early"
        assert field_error(response, "password") == "The email or password is not correct."


def test_the_eleventh_login_attempt_in_a_minute_gets_the_too_many_attempts_page(client, app):
    assert app.config["LOGIN_RATE_LIMIT"].startswith("10 per minute")
    make_clinician(email="ana@clinic.example")
    with time_machine.travel(clock.now(), tick=False) as traveller:
        _attempts_until_refused(client, "ana@clinic.example", 10)
        response = client.post("/login", {"email": "ana@clinic.example", "password": PASSWORD})
        assert response.status_code == 429
        assert "Too many attempts" in text(response)
        assert "Retry-After" in response.headers
        # Even the right password waits: nobody was logged in.
        assert redirect_path(client.get("/catalogue")).startswith("/login?next=")
        # The login page itself still opens; only attempts are limited.
        assert client.get("/login").status_code == 200

        traveller.shift(timedelta(seconds=61))
        client.login("ana@clinic.example", PASSWORD)
        assert client.get("/catalogue").status_code == 200


def test_the_login_limit_counts_per_connection(make_client):
    make_clinician(email="ana@clinic.example")
    attacker = make_client()
    attacker.raw.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    _attempts_until_refused(attacker, "ana@clinic.example", 10)
    assert attacker.post("/login", {"email": "ana@clinic.example", "password": "x"}).status_code == 429
    colleague = make_client()
    colleague.raw.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    colleague.login("ana@clinic.example", PASSWORD)


@pytest.fixture
def redis_connection():
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as exc:
        need(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield connection
    connection.close()


@pytest.fixture
def redis_apps(ctx, app, app_config, redis_connection):
    """Apps whose rate limits live in Redis, as with several gunicorn workers. Their keys carry
    a unique client address and account (the limiter keeps the key prefix it was first given),
    and are deleted afterwards, so that no later run finds them."""
    prefix = f"shop-test-{secrets.token_hex(6)}"
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    email = f"ana-{secrets.token_hex(6)}@clinic.example"
    made = []

    def make():
        application = create_app("testing", **app_config, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
        made.append(application)
        browser = WebClient(application.test_client())
        browser.raw.environ_base["REMOTE_ADDR"] = address
        return browser

    try:
        yield make, address, email
    finally:
        for pattern in (f"*{prefix}*", f"*{address}*", f"*{email}*"):
            for key in redis_connection.scan_iter(match=pattern):
                redis_connection.delete(key)
        # The limiter is shared by every app in this process: give it back its in-memory storage.
        limiter.init_app(app)
        for application in made:
            with application.app_context():
                db.engine.dispose()


def test_the_login_limit_holds_across_workers_when_counted_in_redis(redis_apps, redis_connection):
    make, address, email = redis_apps
    make_clinician(email=email)

    first_worker = make()
    _attempts_until_refused(first_worker, email, 10)
    assert any(address in key.decode() for key in redis_connection.scan_iter(match=f"*{address}*"))

    # A second worker starts with nothing in memory; the attempts counted in Redis still count.
    second_worker = make()
    response = second_worker.post("/login", {"email": email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in text(response)


# --- caching ----------------------------------------------------------------------------


def test_whatever_a_signed_in_person_is_sent_stays_out_of_every_cache(signed_in):
    """Pages, but also the quote PDF and JSON: each carries prices or personal data."""
    setup = simple_quote()
    doctor = signed_in(setup.clinician)

    for path in ("/catalogue", f"/quotes/{setup.number}/pdf?version=1", "/healthz"):
        response = doctor.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path


def test_static_files_stay_cacheable_for_signed_in_people_too(signed_in):
    doctor = signed_in(make_clinician())
    response = doctor.get("/static/css/shop.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_csrf_token_taken_before_login_no_longer_works_after_it(client):
    make_clinician(email="ana@clinic.example")
    before = client.csrf_token()
    client.login("ana@clinic.example", PASSWORD)

    response = client.post("/logout", {"csrf_token": before}, csrf=False)

    _refused_for_csrf(client, response)
    assert client.get("/catalogue").status_code == 200  # still signed in
    assert client.post("/logout").status_code == 303  # with the token of the new session


def test_a_csrf_token_of_a_session_that_logged_out_no_longer_works(client):
    make_clinician(email="ana@clinic.example")
    client.login("ana@clinic.example", PASSWORD)
    during = client.csrf_token()
    client.logout()

    response = client.post(
        "/login", {"email": "ana@clinic.example", "password": PASSWORD, "csrf_token": during}, csrf=False
    )

    _refused_for_csrf(client, response)
    assert redirect_path(client.get("/catalogue")).startswith("/login?next=")
