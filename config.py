"""Configuration classes, chosen by SHOP_ENV.

Secrets and deployment details come only from the environment; the defaults here are safe for
development and tests. `config_for(name)` returns the class the factory loads.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def normalise_database_url(url: str) -> str:
    """Accept the URL forms hosting providers hand out and use psycopg 3 for PostgreSQL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SHOP_ENV = "development"
    SECRET_KEY = _env("SECRET_KEY", "dev-only-secret-key-change-me")

    SQLALCHEMY_DATABASE_URI = normalise_database_url(_env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'shop.db'}"))
    # pool_pre_ping: on for a database server, off for SQLite (create_app).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    SHOP_NAME = _env("SHOP_NAME", "Meridian Aesthetic Supply")
    SHOP_BASE_URL = _env("SHOP_BASE_URL", "http://127.0.0.1:5000")
    SHOP_CURRENCY = _env("SHOP_CURRENCY", "USD")
    SHOP_LOCALE = _env("SHOP_LOCALE", "en_US")
    SHOP_TIMEZONE = _env("SHOP_TIMEZONE", "Europe/Dublin")
    # The market the shop sells into: products not cleared for it are shown but cannot be sold.
    SHOP_MARKET = _env("SHOP_MARKET", "EU")
    # Pre-selected in address forms.
    SHOP_COUNTRY = _env("SHOP_COUNTRY", "IE")
    # The professions (comma-separated values of the registration form's `profession`) whose
    # licence lets a clinician buy prescription-only products; checked when the app starts.
    PRESCRIBER_PROFESSIONS = _env("PRESCRIBER_PROFESSIONS", "physician,dentist,nurse_practitioner,physician_assistant")

    # The supplier's published contact details (letterhead, footer, home page).
    SHOP_ADDRESS = _env(
        "SHOP_ADDRESS",
        "Meridian Aesthetic Supply Ltd, Unit 4, Harbour Point Business Park, Little Island, Cork T45 X627, Ireland",
    )
    CUSTOMER_CARE_PHONE = _env("CUSTOMER_CARE_PHONE", "+353 21 555 0140")
    ORDERS_PHONE = _env("ORDERS_PHONE", "+353 21 555 0150")
    FAX_NUMBER = _env("FAX_NUMBER", "+353 21 555 0159")
    ORDERS_DESK_EMAIL = _env("ORDERS_DESK_EMAIL", "orders@meridian-supply.example")
    QUOTES_DESK_EMAIL = _env("QUOTES_DESK_EMAIL", "quotes@meridian-supply.example")
    CUSTOMER_CARE_EMAIL = _env("CUSTOMER_CARE_EMAIL", "care@meridian-supply.example")

    MAIL_SERVER = _env("MAIL_SERVER")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USERNAME = _env("MAIL_USERNAME")
    MAIL_PASSWORD = _env("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Meridian Aesthetic Supply <no-reply@meridian-supply.example>")
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 10)
    # Where development mail goes when no MAIL_SERVER is set.
    MAIL_FILE_DIR = _env("MAIL_FILE_DIR", str(INSTANCE_DIR / "mail"))
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 12)
    # A worker that took a message owns it this long, counted from when it took it.
    MAIL_CLAIM_SECONDS = _env_int("MAIL_CLAIM_SECONDS", 300)
    MAIL_WORKER_INTERVAL = _env_int("MAIL_WORKER_INTERVAL", 5)
    # The worker's other rounds (unpaid card orders, quote expiry and reminders), in seconds.
    HOUSEKEEPING_INTERVAL = _env_int("HOUSEKEEPING_INTERVAL", 60)

    STRIPE_SECRET_KEY = _env("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = _env("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = _env("STRIPE_API_BASE")

    UPLOAD_FOLDER = _env("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
    LICENCE_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    # A little above the document limit so that a slightly-too-large file gets a message next
    # to the field instead of a bare 413.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A login session ends after this many hours, whatever the cookie says.
    LOGIN_SESSION_HOURS = _env_int("LOGIN_SESSION_HOURS", 12)
    # ...and sooner after this many minutes without a request: staff, then clinicians.
    LOGIN_IDLE_MINUTES = _env_int("LOGIN_IDLE_MINUTES", 60)
    LOGIN_IDLE_MINUTES_CLINICIAN = _env_int("LOGIN_IDLE_MINUTES_CLINICIAN", 8 * 60)
    PASSWORD_RESET_MAX_AGE = 2 * 60 * 60
    STAFF_INVITE_MAX_AGE = 7 * 24 * 60 * 60
    EMAIL_CONFIRMATION_MAX_AGE = 48 * 60 * 60
    PASSWORD_MIN_LENGTH = 12
    # argon2id cost (the argon2-cffi defaults, RFC 9106 low-memory profile).
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 65536

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Responses a browser accepts compressed (Accept-Encoding) go Brotli or gzip: pages, styles,
    # scripts, JSON and SVG above a few hundred bytes. A page's CSRF token beside text it echoes
    # (a search) is the BREACH pattern; the session cookie is SameSite=Lax, so no other site can
    # make the browser fetch a signed-in page again and again to measure its size.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ]
    COMPRESS_MIN_SIZE = 500
    COMPRESS_BR_LEVEL = 4
    COMPRESS_LEVEL = 6

    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    # How many gunicorn workers production starts (gunicorn reads the same variable); memory://
    # limits are refused with more than one.
    WEB_CONCURRENCY = _env_int("WEB_CONCURRENCY", 1)
    # Reverse proxies in front of the shop whose X-Forwarded-For/-Proto/-Host it believes.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "shop")
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;60 per hour")
    # Failed logins per account (by email), from any address.
    LOGIN_ACCOUNT_RATE_LIMIT = _env("LOGIN_ACCOUNT_RATE_LIMIT", "20 per 15 minutes;50 per day")
    PASSWORD_CHANGE_RATE_LIMIT = _env("PASSWORD_CHANGE_RATE_LIMIT", "10 per hour")
    # Completed applications per address (a form sent back to be corrected does not count).
    REGISTER_RATE_LIMIT = _env("REGISTER_RATE_LIMIT", "5 per hour")
    CONFIRMATION_RESEND_RATE_LIMIT = _env("CONFIRMATION_RESEND_RATE_LIMIT", "3 per hour")
    # Invitations an owner sends (each is an email to someone who did not ask for it).
    INVITATION_RATE_LIMIT = _env("INVITATION_RATE_LIMIT", "20 per day")
    PASSWORD_RESET_RATE_LIMIT = _env("PASSWORD_RESET_RATE_LIMIT", "5 per hour")
    # Codes typed for a second factor, per account: five wrong codes also end the waiting login.
    SECOND_FACTOR_RATE_LIMIT = _env("SECOND_FACTOR_RATE_LIMIT", "10 per minute;30 per hour")

    # Ordering: a flat shipping rate, free from a threshold; one tax rate on goods and shipping.
    SHIPPING_FLAT_CENTS = _env_int("SHIPPING_FLAT_CENTS", 1500)
    FREE_SHIPPING_THRESHOLD_CENTS = _env_int("FREE_SHIPPING_THRESHOLD_CENTS", 50000)
    TAX_RATE_PERCENT = _env("TAX_RATE_PERCENT", "23")
    TAX_LABEL = _env("TAX_LABEL", "VAT")
    # An unpaid card order is cancelled, and its stock released, after this many minutes.
    ORDER_PAYMENT_MINUTES = _env_int("ORDER_PAYMENT_MINUTES", 60)
    # ...and a card order keyed in by the orders desk, whose payment link is emailed, after this
    # many hours (at most 23: a Stripe payment page lives no longer).
    DESK_PAYMENT_HOURS = _env_int("DESK_PAYMENT_HOURS", 23)
    STRIPE_TIMEOUT_SECONDS = _env_int("STRIPE_TIMEOUT_SECONDS", 10)
    STRIPE_MAX_RETRIES = _env_int("STRIPE_MAX_RETRIES", 1)

    # Quotes: valid this many days by default (to the end of the day, shop time); the
    # clinician is reminded this many days before the end.
    QUOTE_VALIDITY_DAYS = _env_int("QUOTE_VALIDITY_DAYS", 30)
    QUOTE_REMINDER_DAYS = _env_int("QUOTE_REMINDER_DAYS", 2)
    # Unset, a quote starts with the shop's standard terms, which offer card payment only when
    # card payment is set up (shop.quoting.builder.default_terms).
    QUOTE_DEFAULT_TERMS = _env("QUOTE_DEFAULT_TERMS")

    # The seller as invoices and credit notes name it (an EU invoice must carry the VAT number),
    # and where practices pay.
    SELLER_LEGAL_NAME = _env("SELLER_LEGAL_NAME", "Meridian Aesthetic Supply Ltd")
    SELLER_ADDRESS = _env(
        "SELLER_ADDRESS", "Unit 4, Harbour Point Business Park, Little Island, Cork T45 X627, Ireland"
    )
    SELLER_VAT_NUMBER = _env("SELLER_VAT_NUMBER", "IE 3456789XH")
    SELLER_COMPANY_NUMBER = _env("SELLER_COMPANY_NUMBER", "Registered in Ireland, no. 654321")
    SELLER_BANK_NAME = _env("SELLER_BANK_NAME", "Bank of Ireland, Cork")
    SELLER_IBAN = _env("SELLER_IBAN", "IE29 BOFI 9000 1712 3456 78")
    SELLER_BIC = _env("SELLER_BIC", "BOFIIE2D")
    # Days after an invoice's due date on which the practice's owners are reminded, while it is
    # unpaid (comma-separated).
    INVOICE_REMINDER_DAYS = _env("INVOICE_REMINDER_DAYS", "7,21,45")
    # The shelf life a clinic is promised: a lot expiring within this many days of the day it
    # would ship is not packed (it stays on sale until its expiry, for the desk to decide).
    MIN_SHELF_LIFE_DAYS = _env_int("MIN_SHELF_LIFE_DAYS", 90)

    CATALOGUE_PAGE_SIZE = 12
    STAFF_PAGE_SIZE = 25


class DevelopmentConfig(Config):
    SHOP_ENV = "development"


class TestingConfig(Config):
    SHOP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SHOP_BASE_URL = "http://shop.test"
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = None
    # Real argon2id, at the lowest cost, so the suite's many logins stay quick.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 8192


class ProductionConfig(Config):
    SHOP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for "/" and for
    # this host only, so no sibling subdomain can set or read the shop's session.
    SESSION_COOKIE_NAME = "__Host-session"
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not _env(name)]
        if missing:
            raise RuntimeError("SHOP_ENV=production needs these environment variables: " + ", ".join(missing))

    @classmethod
    def from_environment(cls) -> type[Config]:
        """The production settings with the secret key and database read now, not at import:
        the values checked are the values used, never the development defaults."""
        cls.check()
        return type(
            cls.__name__,
            (cls,),
            {
                "SECRET_KEY": _env("SECRET_KEY"),
                "SQLALCHEMY_DATABASE_URI": normalise_database_url(_env("DATABASE_URL")),
                "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
                "WEB_CONCURRENCY": _env_int("WEB_CONCURRENCY", 1),
            },
        )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    name = (name or _env("SHOP_ENV", "development")).strip().lower()
    try:
        config = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"SHOP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
    if config is ProductionConfig:
        return ProductionConfig.from_environment()
    return config
