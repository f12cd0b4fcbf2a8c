"""The fixture set: a database (SQLite file, or a private PostgreSQL schema with --db=postgresql),
the app under test and a twin app for the test's own database work, a real SMTP server, a
live HTTP server and Debian's Chromium for browser tests.

Outside CI a missing PostgreSQL or Chromium skips what needs it, with the reason; with
CI=true nothing may skip, so the same condition fails instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import normalise_database_url
from shop import create_app
from shop.catalogue import facets
from shop.catalogue.search_index import DOCUMENT_TABLES, FTS_TABLES
from shop.core import mailer
from shop.extensions import db, limiter
from tests import stripe_fake
from tests.factories import PASSWORD
from tests.helpers import WebClient, stored
from tests.smtp import SMTPServer

IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
STALE_SCHEMA_SECONDS = 6 * 3600


def need(reason: str):
    """Skip for `reason` on a developer machine; fail under CI, where nothing may skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this may not be skipped)", pytrace=False)
    pytest.skip(reason)


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="database to run the suite against (PostgreSQL from TEST_DATABASE_URL)",
    )


def pytest_report_header(config):
    db_kind = config.getoption("--db")
    where = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG) if db_kind == "postgresql" else "temporary file"
    return f"database: {db_kind} ({where}); CI={'true' if IN_CI else 'false'}"


# --- database ---------------------------------------------------------------------------


def _drop_stale_schemas(conn) -> None:
    """Remove schemas left by runs that were killed before their cleanup."""
    cutoff = int(time.time()) - STALE_SCHEMA_SECONDS
    rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'shop_test_%'").fetchall()
    for (name,) in rows:
        parts = name.split("_")
        if len(parts) >= 3 and parts[2].isdigit() and int(parts[2]) < cutoff:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)


def postgres_schema_url(base: str, schema: str) -> str:
    """The database with `schema` first on the search path, then public, where extensions
    (pg_trgm) live, one per database."""
    separator = "&" if "?" in base else "?"
    return normalise_database_url(base) + f"{separator}options=-csearch_path%3D{schema}%2Cpublic"


@pytest.fixture(scope="session")
def fresh_postgres_schema(postgres_base_url):
    """A factory of empty PostgreSQL schemas, all dropped at the end of the session."""
    import psycopg

    try:
        conn = psycopg.connect(postgres_base_url, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        need(f"PostgreSQL is not reachable at {postgres_base_url}: {exc}".strip())
    _drop_stale_schemas(conn)
    created: list[str] = []

    def make() -> str:
        schema = f"shop_test_{int(time.time())}_{os.getpid()}_{len(created)}"
        conn.execute(f'CREATE SCHEMA "{schema}"')
        created.append(schema)
        return postgres_schema_url(postgres_base_url, schema)

    yield make
    for schema in created:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


@pytest.fixture(scope="session")
def database_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def database_url(database_kind, tmp_path_factory, request) -> str:
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'shop.db'}"
    return request.getfixturevalue("fresh_postgres_schema")()


# --- mail -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    """What the real SMTP server received during this test."""
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def settled(mailbox):
    """Call after setting up records: sends what the set-up queued and forgets it."""

    def settle():
        mailer.deliver_due()
        mailbox.clear()

    return settle


# --- Stripe -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_server():
    server = stripe_fake.FakeStripe()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stripe(stripe_server):
    """The Stripe-shaped server, emptied for this test."""
    stripe_server.reset()
    return stripe_server


# --- apps -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_config(database_url, smtp_server, stripe_server, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("instance")
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": str(base / "uploads"),
        "MAIL_FILE_DIR": str(base / "mail"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT": 5,
        "STRIPE_SECRET_KEY": stripe_fake.SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": stripe_fake.WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server.url,
        # Short, so the slow-Stripe tests take seconds; the 10 s default is in config.py.
        "STRIPE_TIMEOUT_SECONDS": 1,
    }


@pytest.fixture(scope="session")
def app(app_config):
    """The app under test: the test client and the live server talk to it."""
    from flask_migrate import upgrade

    application = create_app("testing", **app_config)
    with application.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def data_app(app, app_config):
    """A twin of the app for the test's own database work. Test code runs inside its context,
    so requests to `app` get fresh contexts (and a fresh current_user) every time."""
    application = create_app("testing", **app_config)
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_tables() -> None:
    if db.engine.dialect.name == "postgresql":
        # TRUNCATE makes new files for the tables it names, which cost a test more than its own
        # work: the tables holding rows are emptied with DELETE, with triggers and foreign keys
        # (the audit log's append-only rule among them) lifted for this transaction only, the
        # search's documents (written by a trigger) with them.
        tables = [table.name for table in db.metadata.sorted_tables] + list(DOCUMENT_TABLES)
        held = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables)
        db.session.execute(db.text("SET LOCAL session_replication_role = replica"))
        for (name,) in db.session.execute(db.text(held)).all():
            db.session.execute(db.text(f'DELETE FROM "{name}"'))
        db.session.execute(
            db.text(
                "SELECT setval(oid, 1, false) FROM pg_class"
                " WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace"
            )
        )
    else:
        # Quotes and their versions refer to each other: check the keys once all rows are gone.
        # The audit log and issued invoices refuse deletes (their triggers, and the session):
        # the triggers are lifted for the moment and put back as they were, and rows go
        # through the connection.
        connection = db.session.connection()
        triggers = connection.execute(db.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        for name, _sql in triggers:
            connection.execute(db.text(f'DROP TRIGGER "{name}"'))
        connection.execute(db.text("PRAGMA defer_foreign_keys = ON"))
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        for _name, sql in triggers:
            connection.execute(db.text(sql))
        # The full-text tables read their rows from tables emptied while their triggers were off.
        for table in FTS_TABLES:
            connection.execute(db.text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))
    db.session.commit()


@pytest.fixture(autouse=True)
def ctx(data_app, app_config):
    """Every test runs inside the twin app's context and leaves the database empty."""
    with data_app.app_context():
        yield data_app
        db.session.remove()
        _empty_tables()
        db.session.remove()
        facets.forget()
    limiter.reset()
    for folder in (app_config["UPLOAD_FOLDER"], app_config["MAIL_FILE_DIR"]):
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def client(app) -> WebClient:
    return WebClient(app.test_client())


@pytest.fixture
def make_client(app):
    """More independent browsers (each with its own cookies)."""
    return lambda: WebClient(app.test_client())


@pytest.fixture
def signed_in(make_client):
    """A new browser in which `user` (with the factories' password) has logged in."""

    def sign_in(user) -> WebClient:
        browser = make_client()
        browser.login(user.email, PASSWORD)
        return browser

    return sign_in


@pytest.fixture
def nothing_kept(app):
    """Asserts, after the test, that every table holds as many rows as before it and the
    upload folder holds the same files."""
    before = stored(app.config)
    yield
    assert stored(app.config) == before


@pytest.fixture
def cli(app):
    """Runs a `flask` command against the app under test."""
    runner = app.test_cli_runner()

    def run(*args: str):
        return runner.invoke(args=list(args))

    return run


@pytest.fixture
def shop_logger():
    """A non-testing app adds a stderr handler to the shop's logger; put it back afterwards."""
    logger = logging.getLogger("shop")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


# --- live server and browser ------------------------------------------------------------


def closed_before_sending(app):
    """Werkzeug's development server skips a response's close() when the browser hangs up while
    it drains the request (its read raises before the close in the same finally block), which
    leaves a static file open. Hand it the body as bytes, with the file already closed."""

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        return [body]

    return wsgi


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, closed_before_sending(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    from tests.helpers import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        need("Debian's chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = Path("test-artifacts")
        out.mkdir(exist_ok=True)
        tab.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
