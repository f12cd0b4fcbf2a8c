"""What tests read and drive. A test client that behaves like a person's browser: it fetches a
CSRF token the way a page would, posts forms, and reads links and messages out of the pages;
the forms of the cart, checkout, quote request, builder and accept pages as those pages fill
them in. What tests read back from the database, the upload folder, the mail and the PDFs to
see what an action kept; what staff change in the back office afterwards; Stripe's signed
webhook deliveries and the clock running out; and Debian's Chromium for Playwright.

Nothing here creates records for a test's set-up: that is tests.factories."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage
from html import unescape
from io import BytesIO
from pathlib import Path

import pyotp
from flask import current_app
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from shop import clock
from shop.accounts.models import SecondFactor, User
from shop.cart import services as carts
from shop.catalogue.models import Variant
from shop.core import mailer
from shop.core.outbox import OutboxMessage
from shop.core.pricing import percent
from shop.extensions import db
from shop.ordering.history import OrderEvent
from shop.ordering.models import Order
from shop.payments.models import StripeEvent
from shop.quoting.models import QuoteEvent, QuoteVersion

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FLASH = re.compile(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', re.S)
# The fields of the checkout page and of the quote's accept page (a checkout for its lines).
TOTAL_FIELD = re.compile(r'name="expected_total" type="hidden" value="(-?\d+)"')
ADDRESS_OPTION = re.compile(r'<input[^>]*name="address_id"[^>]*value="(\d+)"[^>]*>\s*<label[^>]*>([^<]*)</label>')
VERSION_FIELD = re.compile(r'name="version" type="hidden" value="(\d+)"')

REQUEST_URL = "/quotes/new"


# --- the browser --------------------------------------------------------------------------------


class WebClient:
    def __init__(self, client: FlaskClient):
        self.raw = client

    def get(self, url: str, **kwargs) -> TestResponse:
        return _read(self.raw.get(url, **kwargs))

    def csrf_token(self) -> str:
        page = self.raw.get("/")
        match = CSRF_META.search(page.get_data(as_text=True))
        assert match, "the front page carries no CSRF token"
        return match.group(1)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs) -> TestResponse:
        """POST a form. Values given as (bytes or stream, filename) tuples are uploaded as files,
        multipart-encoded in memory (the test client would spool a large body to a temporary
        file that it never closes)."""
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        if any(isinstance(value, tuple) for value in data.values()):
            kwargs.pop("content_type", None)
            boundary, body = encode_multipart({name: _as_file(value) for name, value in data.items()})
            return _read(
                self.raw.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs)
            )
        return _read(self.raw.post(url, data=data, **kwargs))

    def login(self, email: str, password: str) -> TestResponse:
        """Log in as a person would, and insist that it works."""
        response = self.post_login({"email": email, "password": password})
        assert response.status_code in (200, 303), f"login of {email} failed: {response.status_code}"
        return response

    def post_login(self, form: dict, url: str = "/login") -> TestResponse:
        """Post the login form; then, if the account asks, the code from its authenticator app,
        or set the app up first (a staff member's first login: the answer is then the page with
        the recovery codes). The last answer is returned."""
        response = self.post(url, form)
        location = response.headers.get("Location") if response.status_code == 303 else None
        if location == "/login/code":
            response = self.post("/login/code", {"code": login_code(form["email"])})
            assert response.status_code == 303, f"the login code of {form['email']} was refused"
        elif location == "/login/enrol":
            self.get("/login/enrol")
            response = self.post("/login/enrol", {"code": login_code(form["email"], setting_up=True)})
            assert response.status_code == 200, f"setting up the authenticator of {form['email']} failed"
        return response

    def logout(self) -> TestResponse:
        return self.post("/logout")


def _as_file(value):
    """(content, filename) or (content, filename, content type) as an uploaded file."""
    if not isinstance(value, tuple):
        return value
    content, filename, *content_type = value
    stream = BytesIO(content) if isinstance(content, bytes) else content
    return FileStorage(stream, filename=filename, content_type=content_type[0] if content_type else None)


def _read(response: TestResponse) -> TestResponse:
    """Buffer the body and close the response, as a browser would (file downloads included)."""
    response.get_data()
    response.close()
    return response


def login_code(email: str, *, setting_up: bool = False) -> str:
    """The code the authenticator app of `email` shows now. The factor forgets the code it last
    accepted, so that a test may log one person in twice within 30 seconds (a real second login
    waits for the next code)."""
    user = db.session.scalar(select(User).where(User.email == email.lower()))
    factor = db.session.scalar(
        select(SecondFactor)
        .where(
            SecondFactor.user_id == user.id,
            SecondFactor.ended_at.is_(None),
            SecondFactor.confirmed_at.is_(None) if setting_up else SecondFactor.confirmed_at.is_not(None),
        )
        .order_by(SecondFactor.id.desc())
    )
    assert factor is not None, f"{email} has no authenticator {'being set up' if setting_up else 'in use'}"
    db.session.execute(update(SecondFactor).where(SecondFactor.id == factor.id).values(last_used_step=None))
    db.session.commit()
    return pyotp.TOTP(factor.secret).at(clock.now())


# --- reading pages ------------------------------------------------------------------------------


def text(response: TestResponse) -> str:
    """The visible text of a page, tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_error(response: TestResponse, field_id: str) -> str:
    """The error message shown next to a form field."""
    html = response.get_data(as_text=True)
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html, flags=re.S)
    return unescape(match.group(1)).strip() if match else ""


def redirect_path(response: TestResponse) -> str:
    location = response.headers.get("Location", "")
    return re.sub(r"^https?://[^/]+", "", location)


def flashes(response: TestResponse) -> list[tuple[str, str]]:
    """The flash messages on a page as (kind, message) pairs, whitespace collapsed."""
    return [
        (kind, re.sub(r"\s+", " ", message).strip()) for kind, message in FLASH.findall(response.get_data(as_text=True))
    ]


def _cell_text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def cart_rows(response) -> list[dict[str, str]]:
    """The cart table as the clinician reads it: one dict per line, by column, plus the
    quantity in the box and whether the line is marked."""
    html = response.get_data(as_text=True)
    table = re.search(r'<table class="[^"]*cart-table[^"]*">.*?<tbody>(.*?)</tbody>', html, re.S)
    if table is None:
        return []
    rows = []
    for attributes, body in re.findall(r"<tr([^>]*)>(.*?)</tr>", table.group(1), re.S):
        cells = {
            label: _cell_text(cell)
            for label, cell in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', body, re.S)
        }
        quantity = re.search(r'name="quantity" value="(\d+)"', body)
        cells["quantity"] = quantity.group(1) if quantity else ""
        cells["marked"] = "row-problem" in attributes
        rows.append(cells)
    return rows


def totals_of(response) -> dict[str, str]:
    """The totals block of the cart or checkout page: term -> value."""
    html = response.get_data(as_text=True)
    block = re.search(r'<dl class="totals">(.*?)</dl>', html, re.S)
    assert block, "the page shows no totals"
    pairs = re.findall(r"<dt[^>]*>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", block.group(1), re.S)
    return {_cell_text(term): _cell_text(value) for term, value in pairs}


def checkout_page_values(html: str) -> tuple[str, list[tuple[str, str]]]:
    """The total the page (checkout, or a quote's accept page) asks to confirm, and the delivery
    addresses it offers (id, label)."""
    total = TOTAL_FIELD.search(html)
    assert total, "the checkout page carries no expected_total"
    return total.group(1), ADDRESS_OPTION.findall(html)


# --- driving pages ------------------------------------------------------------------------------


def add_to_cart(browser: WebClient, sku: str, quantity=1, **extra) -> TestResponse:
    """The "Add to cart" form of a product (`extra`: the page to return to as next=...)."""
    return browser.post("/cart/add", {"sku": sku, "quantity": str(quantity), **extra})


def post_checkout(browser: WebClient, method: str = "account", **fields) -> TestResponse:
    """Load /checkout, then post it back as the page was shown (the total it asks to confirm,
    its first address), paying by `method`, with `fields` on top (None leaves a field out)."""
    page = browser.get("/checkout")
    assert page.status_code == 200, page.status_code
    total, addresses = checkout_page_values(page.get_data(as_text=True))
    data = {"address_id": addresses[0][0], "payment_method": method, "expected_total": total}
    data.update(fields)
    return browser.post("/checkout", {k: v for k, v in data.items() if v is not None})


def placed_order_number(response: TestResponse) -> str:
    """The number of the order a checkout placed: it redirects to the order's page."""
    assert response.status_code == 303, text(response)
    return redirect_path(response).rsplit("/", 1)[-1]


def accept_form(browser: WebClient, number: str) -> dict[str, str]:
    """The accept page's form as the page fills it in (version, total, first address)."""
    page = browser.get(f"/quotes/{number}/accept")
    assert page.status_code == 200, (page.status_code, text(page)[:400])
    html = page.get_data(as_text=True)
    version, total, addresses = VERSION_FIELD.search(html), TOTAL_FIELD.search(html), ADDRESS_OPTION.findall(html)
    assert version and total and addresses, "the accept page carries no version, total or address"
    return {"version": version.group(1), "expected_total": total.group(1), "address_id": addresses[0][0]}


def post_accept(browser: WebClient, number: str, method: str = "account", **fields) -> TestResponse:
    """Open the accept page, then post it back as shown, with `fields` on top."""
    data = {**accept_form(browser, number), "payment_method": method, **fields}
    return browser.post(f"/quotes/{number}/accept", {k: v for k, v in data.items() if v is not None})


def request_form(
    *products: tuple[str, int | str],
    others: tuple[tuple[str, int | str], ...] = (),
    target_date: date | str | None = None,
    message: str | None = None,
) -> dict[str, str]:
    """The quote request page's fields, filled in row by row."""
    form: dict[str, str] = {}
    for index, (sku, quantity) in enumerate(products):
        form[f"products-{index}-sku"] = sku
        form[f"products-{index}-quantity"] = str(quantity)
    for index, (item, quantity) in enumerate(others):
        form[f"others-{index}-item"] = item
        form[f"others-{index}-quantity"] = str(quantity)
    if target_date is not None:
        form["target_date"] = target_date.isoformat() if isinstance(target_date, date) else target_date
    if message is not None:
        form["message"] = message
    return form


def amount(cents: int) -> str:
    """Cents as the builder's inputs show them: 12345 -> '123.45'."""
    return f"{Decimal(cents) / 100:.2f}"


def builder_form(version: QuoteVersion, lines: dict[int, dict[str, str]] | None = None, **fields: str) -> dict:
    """The builder's form as the page fills it for `version`, with `lines` overriding fields of
    the line at that position ({"quantity": "5", "discount": "10", "remove": "y"}...) and
    `fields` overriding shipping, valid_until, terms, note or adding then="send"."""
    form: dict[str, str] = {}
    for index, line in enumerate(version.lines):
        form[f"lines-{index}-line_id"] = str(line.id)
        form[f"lines-{index}-quantity"] = str(line.quantity)
        form[f"lines-{index}-unit_price"] = amount(line.unit_price_cents)
        form[f"lines-{index}-discount"] = percent(line.discount_bps) if line.discount_bps else ""
        for name, value in (lines or {}).get(index, {}).items():
            form[f"lines-{index}-{name}"] = value
    form.update(
        shipping=amount(version.shipping_cents),
        valid_until=version.valid_until.isoformat(),
        terms=version.terms,
        note=version.note,
    )
    form.update(fields)
    return form


# --- what the database and the upload folder hold ----------------------------------------------


def reload(record_or_model, key: int | str | None = None):
    """The record as the database holds it now, not as this session last saw it: a record in
    hand (`reload(quote)`), one by its id (`reload(Variant, variant_id)`), or an order or a quote
    by its number (`reload(Order, "ORD-100001")`)."""
    if key is None:
        model, key = type(record_or_model), record_or_model.id
    else:
        model = record_or_model
    db.session.rollback()
    db.session.expire_all()
    if isinstance(key, str):
        return db.session.scalar(select(model).where(model.number == key))
    return db.session.get(model, key)


def row_count(model) -> int:
    """How many rows a model's (or a Table's) table holds."""
    return db.session.scalar(select(func.count()).select_from(model))


def order_count() -> int:
    """How many orders the database holds now (whoever placed them, in whatever connection)."""
    db.session.rollback()
    return row_count(Order)


def stripe_event_rows() -> int:
    """How many Stripe events the shop has recorded as applied."""
    db.session.rollback()
    return row_count(StripeEvent)


def uploaded_files(config: Mapping) -> list[str]:
    """The files in the app's UPLOAD_FOLDER, as sorted paths relative to it."""
    folder = Path(config["UPLOAD_FOLDER"])
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def stored(config: Mapping) -> dict:
    """How many rows every table holds, and which files the upload folder holds."""
    db.session.rollback()
    counts = {table.name: row_count(table) for table in db.metadata.sorted_tables}
    return {**counts, "files": uploaded_files(config)}


def stock_of(sku: str) -> int:
    """The stock on hand of a variant, as the database holds it now."""
    db.session.expire_all()
    return db.session.scalar(select(Variant.stock_on_hand).where(Variant.sku == sku))


def cart_lines(user: User) -> list[tuple[str, int]]:
    """The user's cart as (SKU, quantity) lines, as the database holds it now."""
    db.session.expire_all()
    return [(line.variant.sku, line.quantity) for line in carts.lines_of(user)]


def orders_of(clinician_id: int) -> list[Order]:
    """The orders the clinician placed, oldest first."""
    db.session.rollback()
    return list(db.session.scalars(select(Order).where(Order.placed_by_id == clinician_id).order_by(Order.id)))


def order_events(number: str, action: str) -> list[OrderEvent]:
    """The events of one action (e.g. "paid") the order went through."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(OrderEvent)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.number == number, OrderEvent.action == action)
            .order_by(OrderEvent.id)
        )
    )


def quote_events(quote_id: int, action: str) -> list[QuoteEvent]:
    """The events of one action (e.g. "accepted") the quote went through."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(QuoteEvent)
            .where(QuoteEvent.quote_id == quote_id, QuoteEvent.action == action)
            .order_by(QuoteEvent.id)
        )
    )


def outbox(kind: str, to: str | None = None) -> list[OutboxMessage]:
    """The queued messages of one kind (e.g. "order.paid") in the outbox, optionally to one address."""
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def line_for(version: QuoteVersion, sku_or_name: str):
    """The line of `version` with this SKU (or, for a custom item, this name)."""
    return next(line for line in version.lines if sku_or_name in (line.sku, line.product_name))


def version_snapshot(version: QuoteVersion) -> tuple:
    """Everything a version says: its lines, prices, totals, validity, terms and note."""
    return (
        version.number,
        tuple(
            (
                line.sku,
                line.product_name,
                line.description,
                line.quantity,
                line.list_price_cents,
                line.discount_bps,
                line.unit_price_cents,
                line.line_total_cents,
            )
            for line in version.lines
        ),
        version.subtotal_cents,
        version.shipping_cents,
        version.tax_rate_bps,
        version.tax_cents,
        version.total_cents,
        version.valid_until,
        version.expires_at,
        version.sent_at,
        version.terms,
        version.note,
    )


# --- what staff change in the back office afterwards --------------------------------------------


def change(variant: Variant, **values) -> None:
    """What staff do in the back office: change a variant and save it."""
    fresh = reload(Variant, variant.id)
    for name, value in values.items():
        setattr(fresh, name, value)
    db.session.commit()


def allow_account(user: User, credit_limit_cents: int = 10_000_000, payment_terms_days: int = 30) -> None:
    """Staff let the user's practice pay on account up to `credit_limit_cents`, invoices due
    `payment_terms_days` after the order."""
    user.practice.on_account = True
    user.practice.credit_limit_cents = credit_limit_cents
    user.practice.payment_terms_days = payment_terms_days
    db.session.commit()


# --- what comes out: mail and PDFs --------------------------------------------------------------


def quotes_desk_address() -> str:
    return current_app.config["QUOTES_DESK_EMAIL"]


def delivered(mailbox, address: str, about: str = "") -> list[EmailMessage]:
    """Deliver what is due through the real SMTP server, then the messages that reached
    `address` whose subject contains `about`."""
    mailer.deliver_due()
    return [message for message in mailbox.to(address) if about in message["Subject"]]


def pdf_attachment(message: EmailMessage) -> tuple[str, bytes]:
    part = next(part for part in message.iter_attachments() if part.get_content_type() == "application/pdf")
    return part.get_filename(), part.get_content()


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, spaces collapsed."""
    assert data.startswith(b"%PDF-"), data[:40]
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"[ \t]+", " ", "\n".join(page.extract_text() for page in pages))


def pdf_page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


# --- Stripe and the clock -----------------------------------------------------------------------


def post_event(client: WebClient, stripe, event_type: str, session: dict, *, event_id: str | None = None):
    """Stripe delivering one signed event to the shop's webhook."""
    payload = stripe.event(event_type, session, event_id=event_id)
    return client.raw.post("/stripe/webhook", data=payload, headers=stripe.signed(payload))


def run_out_the_clock(number: str) -> None:
    """The time to pay passes: the order's pay-by moment is now a minute ago."""
    db.session.execute(update(Order).where(Order.number == number).values(pay_by=clock.now() - timedelta(minutes=1)))
    db.session.commit()


# --- Debian's Chromium for Playwright (its own browser download is not used) --------------------

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def statements_during(action) -> int:
    """How many SQL statements `action` sends, on every engine (the app's and the test's)."""
    sent = 0

    def count(*_args) -> None:
        nonlocal sent
        sent += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return sent


def browser_log_in(tab, email: str, password: str) -> None:
    """Log in in a real browser as a person would: the password, then (for an account with an
    authenticator) the code from the app, typed into the form."""
    tab.goto("/login")
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(lambda url: not url.endswith("/login"))
    if tab.url.endswith("/login/code"):
        tab.get_by_label("Code from your authenticator app").fill(login_code(email))
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(lambda url: "/login" not in url)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def database_away(app, *, after_next_commit: bool = False) -> Iterator[None]:
    """The app's database stops answering (as during a PostgreSQL restart): at once, or just
    after the next commit. Every statement then fails as a lost connection does."""
    with app.app_context():
        engine = db.engine
    state = {"gone": not after_next_commit}

    def committed(_connection) -> None:
        state["gone"] = True

    def refuse(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if state["gone"]:
            raise OperationalError(statement, parameters, ConnectionError("server closed the connection"))

    event.listen(engine, "commit", committed)
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
        event.remove(engine, "commit", committed)


def command_env(database_url: str, tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a shop command run in its own process, as an operator runs it: the
    development settings on the test's database, with its own folders for uploads and mail,
    and `settings` on top."""
    return {
        **os.environ,
        "SHOP_ENV": "development",
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        **settings,
    }
