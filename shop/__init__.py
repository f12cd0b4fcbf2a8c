"""The application factory."""

from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session

from config import config_for
from shop.core.db import choose_engine_options
from shop.urls import register_converters


def create_app(env: str | None = None, **overrides) -> Flask:
    """Build the shop. `env` picks the config class (default: SHOP_ENV); `overrides` win over it."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=False)
    app.config.from_object(config_for(env))
    app.config.update(overrides)
    _check_settings(app.config)
    choose_engine_options(app.config)
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    _configure_logging(app)
    _trust_proxies(app)

    from shop.access import enforce_access

    # The access gate runs before every other hook (CSRF included), so a refused request is
    # refused the same way whatever it carries.
    app.before_request(enforce_access)
    _init_extensions(app)
    register_converters(app)
    _register_blueprints(app)

    from shop import assets, cli, templating
    from shop.public import error_pages

    error_pages.register(app)
    templating.register(app)
    assets.register(app)
    cli.register(app)
    app.after_request(_security_headers)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (nginx, a load balancer), the client's address,
    scheme and host are the ones they forward; rate limits count the real address. With none
    (the default) the forwarded headers are ignored, since anyone could send them."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _check_settings(config) -> None:
    """Refuse to start with a setting every checkout would trip over, naming it."""
    from shop.accounts.models import prescriber_professions
    from shop.core.pricing import percent_to_bps
    from shop.invoicing.reminders import reminder_days
    from shop.payments.gateway import MAX_SESSION_LIFETIME

    max_minutes = int(MAX_SESSION_LIFETIME.total_seconds() // 60)

    problems = []
    try:
        percent_to_bps(config["TAX_RATE_PERCENT"])
    except ValueError as error:
        problems.append(f"TAX_RATE_PERCENT: {error}")
    for name in ("SHIPPING_FLAT_CENTS", "FREE_SHIPPING_THRESHOLD_CENTS"):
        if config[name] < 0:
            problems.append(f"{name} cannot be negative")
    if not 1 <= config["ORDER_PAYMENT_MINUTES"] <= max_minutes:
        problems.append(
            f"ORDER_PAYMENT_MINUTES must be between 1 and {max_minutes} "
            "(the shop's Stripe payment pages live at most 23 hours)"
        )
    try:
        reminder_days(config["INVOICE_REMINDER_DAYS"])
    except ValueError:
        problems.append("INVOICE_REMINDER_DAYS must be whole days after the due date, such as 7,21,45")
    if not 1 <= config["DESK_PAYMENT_HOURS"] <= max_minutes // 60:
        problems.append(f"DESK_PAYMENT_HOURS must be between 1 and {max_minutes // 60}")
    try:
        prescriber_professions(config["PRESCRIBER_PROFESSIONS"])
    except ValueError as error:
        problems.append(f"PRESCRIBER_PROFESSIONS: {error}")
    problems += _rate_limit_storage_problems(config)
    if problems:
        raise RuntimeError("Invalid settings: " + "; ".join(problems))


def _rate_limit_storage_problems(config) -> list[str]:
    """In production, limits kept in memory are counted per process: refused when gunicorn is
    told to start several workers, said loudly when it is not."""
    if config["SHOP_ENV"] != "production" or not config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return []
    if config["WEB_CONCURRENCY"] > 1:
        return [
            f"RATELIMIT_STORAGE_URI is memory:// with WEB_CONCURRENCY={config['WEB_CONCURRENCY']}: each worker "
            "would count its own login attempts; set RATELIMIT_STORAGE_URI=redis://…"
        ]
    logging.getLogger("shop").warning(
        "RATELIMIT_STORAGE_URI is memory://: rate limits (logins, codes, registrations) are counted per "
        "process. With more than one gunicorn worker set RATELIMIT_STORAGE_URI=redis://…"
    )
    return []


def _configure_logging(app: Flask) -> None:
    """The shop's own loggers (mail delivery, decisions) at INFO on stderr, once per process."""
    logger = logging.getLogger("shop")
    if not logger.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


# What a signed-in browser may keep in its own cache: the static files, and product images.
PRIVATELY_CACHED = frozenset({"static", "catalogue.image"})

# Every table, by the part of the business that owns it.
MODEL_MODULES = (
    "shop.core.outbox",
    "shop.core.audit",
    "shop.practices.models",
    "shop.accounts.models",
    "shop.accounts.licences",
    "shop.catalogue.models",
    "shop.catalogue.search_index",
    "shop.lots.models",
    "shop.shipping.models",
    "shop.recalls.models",
    "shop.catalogue.images",
    "shop.catalogue.stock",
    "shop.catalogue.import_jobs",
    "shop.catalogue.price_lists",
    "shop.cart.models",
    "shop.invoicing.models",
    "shop.ordering.models",
    "shop.ordering.history",
    "shop.payments.models",
    "shop.quoting.models",
)
# Where a lower part tells a higher one what happened, the higher one listens: these connect
# their receivers (an unpaid order lapsed -> its quote reopens; Stripe's verdict -> its order).
SIGNAL_RECEIVERS = (
    "shop.ordering.card_payments",
    "shop.quoting.acceptance",
    "shop.shipping.documents",
)
# The pages of each desk, which add themselves to the back office's `staff` blueprint.
DESK_VIEWS = (
    "shop.accounts.staff_views",
    "shop.accounts.staff_users",
    "shop.ordering.staff_views",
    "shop.ordering.staff_desk_orders",
    "shop.practices.staff_views",
    "shop.ordering.staff_practices",
    "shop.ordering.staff_exports",
    "shop.invoicing.staff_views",
    "shop.invoicing.staff_statements",
    "shop.quoting.staff_views",
    "shop.quoting.staff_queue",
    "shop.catalogue.staff_views",
    "shop.lots.staff_views",
    "shop.shipping.staff_views",
    "shop.shipping.staff_exports",
    "shop.recalls.staff_views",
    "shop.catalogue.staff_images",
    "shop.catalogue.staff_exports",
    "shop.catalogue.staff_import",
    "shop.catalogue.staff_names",
    "shop.catalogue.staff_queue",
    "shop.catalogue.staff_price_lists",
    "shop.backoffice.mail_views",
    "shop.backoffice.audit_views",
    "shop.backoffice.views",
)


def _init_extensions(app: Flask) -> None:
    from shop.accounts.sessions import load_session_user
    from shop.core.db import include_object, render_item
    from shop.core.read_only import end_read_only_transaction
    from shop.extensions import compress, csrf, db, limiter, login_manager, migrate

    for module in MODEL_MODULES + SIGNAL_RECEIVERS:
        import_module(module)
    db.init_app(app)
    # Registered after the session's own teardown, so it runs before it (Flask runs them last
    # registered first): a request that only read commits, the rest is rolled back as before.
    app.teardown_appcontext(end_read_only_transaction)
    migrate.init_app(
        app, db, render_as_batch=True, compare_type=True, render_item=render_item, include_object=include_object
    )
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)


def _register_blueprints(app: Flask) -> None:
    from shop.accounts.auth_views import bp as auth_bp
    from shop.accounts.security_views import bp as security_bp
    from shop.accounts.views import bp as account_bp
    from shop.backoffice import bp as staff_bp
    from shop.cart.views import bp as cart_bp
    from shop.catalogue.views import bp as catalogue_bp
    from shop.invoicing.views import bp as invoices_bp
    from shop.ordering.views import bp as orders_bp
    from shop.payments.views import bp as payments_bp
    from shop.practices.views import bp as practice_bp
    from shop.public.views import bp as public_bp
    from shop.quoting.views import bp as quotes_bp
    from shop.recalls.views import bp as recalls_bp

    for module in DESK_VIEWS:
        import_module(module)
    blueprints = (
        public_bp,
        auth_bp,
        security_bp,
        account_bp,
        practice_bp,
        catalogue_bp,
        cart_bp,
        orders_bp,
        invoices_bp,
        quotes_bp,
        payments_bp,
        recalls_bp,
        staff_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _payment_page_origins() -> str:
    """Where a checkout form may send the browser: Stripe's hosted page (or the Stripe-shaped
    server STRIPE_API_BASE names, in tests)."""
    origins = ["https://checkout.stripe.com"]
    base = current_app.config.get("STRIPE_API_BASE")
    if base:
        parts = urlsplit(base)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(origins)


def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        f"form-action 'self' {_payment_page_origins()}",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # A signed-in browser's requests, judged by its session cookie (never a database read here).
    if request.endpoint not in PRIVATELY_CACHED and "_user_id" in session:
        # Whatever a signed-in person is sent (pages, PDFs, licence scans) carries prices or
        # personal data: no cache may keep it. Product images may stay in the person's own
        # browser cache (they say so themselves: private), never in a shared one.
        response.headers["Cache-Control"] = "private, no-store"
    elif response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "private, no-store")
    if current_app.config["SHOP_ENV"] == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
