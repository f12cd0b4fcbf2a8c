"""The gate is deny-by-default: every endpoint in the url_map declares a policy, and each kind
of visitor gets exactly what that policy promises, on every route and method."""

from __future__ import annotations

import re

import pytest

from shop.access import WORK_DESKS, Desk, Policy, desk_for, policy_for
from shop.accounts.models import Role
from shop.catalogue.models import Product
from shop.extensions import db
from tests.factories import make_applicant, make_catalogue, make_clinician, make_staff
from tests.helpers import redirect_path, text

VISITORS = ("anonymous", "unverified", "verified", "staff", "admin")

# What each visitor may do under each policy: "ok" (the view runs), "login" (sent to log in),
# "status" (sent to the account status page), "403".
EXPECTED = {
    Policy.PUBLIC: dict(anonymous="ok", unverified="ok", verified="ok", staff="ok", admin="ok"),
    Policy.AUTHENTICATED: dict(anonymous="login", unverified="ok", verified="ok", staff="ok", admin="ok"),
    Policy.CLINICIAN: dict(anonymous="login", unverified="ok", verified="ok", staff="403", admin="403"),
    Policy.VERIFIED: dict(anonymous="login", unverified="status", verified="ok", staff="403", admin="403"),
    Policy.MEMBER: dict(anonymous="login", unverified="status", verified="ok", staff="403", admin="403"),
    Policy.CATALOGUE: dict(anonymous="login", unverified="status", verified="ok", staff="ok", admin="ok"),
    Policy.STAFF: dict(anonymous="login", unverified="403", verified="403", staff="ok", admin="ok"),
    Policy.ADMIN: dict(anonymous="login", unverified="403", verified="403", staff="403", admin="ok"),
}


def _sample_value(converter, argument: str, known: dict) -> str:
    if hasattr(converter, "items"):  # any(...): its first choice in sorted order
        return known.get(argument, sorted(converter.items)[0])
    converter = type(converter).__name__
    if converter == "OrderNumberConverter":
        return known.get("order_number", "ORD-100001")
    if converter == "QuoteNumberConverter":
        return known.get("quote_number", "Q-100001")
    if converter == "InvoiceNumberConverter":
        return "INV-2026-000001"
    if converter == "CreditNoteNumberConverter":
        return "CN-2026-000001"
    if converter in ("IntegerConverter", "RowIdConverter"):
        return str(known.get(argument, 1))
    if converter == "SlugConverter":
        return known["slug"]
    return "sample-token"


def _routes(app):
    """Every (endpoint, method, rule) the app serves, HEAD and OPTIONS aside."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule


def _url(rule, known: dict) -> str:
    values = {name: _sample_value(rule._converters[name], name, known) for name in rule.arguments}
    return rule.build(values)[1]


def _outcome(response) -> str:
    if response.status_code == 403:
        return "403"
    if response.status_code in (301, 302, 303):
        location = redirect_path(response)
        if location.startswith("/login?next="):
            return "login"
        if location == "/account" and response.status_code == 302:
            return "status"
    return "ok"


# The access promised for every endpoint. A new route must be added here on purpose; a
# change of policy must change this table.
CONTRACT = {
    "account.resend_confirmation": Policy.CLINICIAN,
    "account.status": Policy.CLINICIAN,
    "account.submit_document": Policy.CLINICIAN,
    "auth.accept_invite": Policy.PUBLIC,
    "auth.application_sent": Policy.PUBLIC,
    "auth.change_password": Policy.AUTHENTICATED,
    "auth.confirm_email": Policy.PUBLIC,
    "auth.forgot_password": Policy.PUBLIC,
    "auth.join": Policy.PUBLIC,
    "auth.login": Policy.PUBLIC,
    "auth.logout": Policy.AUTHENTICATED,
    "auth.register": Policy.PUBLIC,
    "auth.set_password": Policy.PUBLIC,
    "security.account_security": Policy.AUTHENTICATED,
    "security.end_login": Policy.AUTHENTICATED,
    "security.end_other_logins": Policy.AUTHENTICATED,
    "security.login_code": Policy.PUBLIC,
    "security.login_enrol": Policy.PUBLIC,
    "security.new_recovery_codes": Policy.AUTHENTICATED,
    "security.set_up_authenticator": Policy.AUTHENTICATED,
    "security.turn_off": Policy.CLINICIAN,
    "cart.accept_prices": Policy.VERIFIED,
    "cart.add": Policy.VERIFIED,
    "cart.quick_order": Policy.VERIFIED,
    "cart.remove": Policy.VERIFIED,
    "cart.remove_unavailable": Policy.VERIFIED,
    "cart.show": Policy.VERIFIED,
    "cart.update": Policy.VERIFIED,
    "catalogue.image": Policy.CATALOGUE,
    "invoices.credit_note_pdf": Policy.MEMBER,
    "invoices.index": Policy.MEMBER,
    "invoices.pdf": Policy.MEMBER,
    "catalogue.index": Policy.CATALOGUE,
    "catalogue.product": Policy.CATALOGUE,
    "catalogue.suggest": Policy.CATALOGUE,
    "orders.checkout_page": Policy.VERIFIED,
    "orders.detail": Policy.MEMBER,
    "orders.history": Policy.MEMBER,
    "orders.pay": Policy.VERIFIED,
    "orders.payment_return": Policy.VERIFIED,
    "orders.reorder": Policy.VERIFIED,
    "payments.webhook": Policy.PUBLIC,
    "practice.add_address": Policy.VERIFIED,
    "practice.cancel_invitation": Policy.VERIFIED,
    "practice.change_address": Policy.VERIFIED,
    "practice.details": Policy.VERIFIED,
    "practice.invite": Policy.VERIFIED,
    "practice.member_role": Policy.VERIFIED,
    "practice.remove_member": Policy.VERIFIED,
    "practice.show": Policy.VERIFIED,
    "quotes.accept": Policy.VERIFIED,
    "quotes.changes": Policy.VERIFIED,
    "quotes.comment": Policy.VERIFIED,
    "quotes.decline": Policy.VERIFIED,
    "quotes.detail": Policy.MEMBER,
    "quotes.index": Policy.MEMBER,
    "quotes.new": Policy.VERIFIED,
    "quotes.pdf": Policy.MEMBER,
    "public.healthz": Policy.PUBLIC,
    "public.home": Policy.PUBLIC,
    "public.robots": Policy.PUBLIC,
    "public.start": Policy.AUTHENTICATED,
    "staff.application": Policy.STAFF,
    "staff.applications": Policy.STAFF,
    "staff.approve": Policy.STAFF,
    "staff.attach": Policy.STAFF,
    "staff.correct": Policy.STAFF,
    "staff.dashboard": Policy.STAFF,
    "staff.catalogue_csv": Policy.STAFF,
    "staff.catalogue_image_add": Policy.STAFF,
    "staff.catalogue_image_arrange": Policy.STAFF,
    "staff.catalogue_import": Policy.STAFF,
    "staff.catalogue_import_apply": Policy.STAFF,
    "staff.catalogue_import_job": Policy.STAFF,
    "staff.catalogue_import_progress": Policy.STAFF,
    "staff.catalogue_names": Policy.STAFF,
    "staff.catalogue_name_rename": Policy.STAFF,
    "staff.catalogue_name_delete": Policy.STAFF,
    "staff.catalogue_list": Policy.STAFF,
    "staff.catalogue_low_stock": Policy.STAFF,
    "staff.catalogue_new": Policy.STAFF,
    "staff.catalogue_product": Policy.STAFF,
    "staff.catalogue_status": Policy.STAFF,
    "staff.catalogue_stock": Policy.STAFF,
    "staff.lots": Policy.STAFF,
    "staff.supplies_page": Policy.STAFF,
    "staff.supplies_csv": Policy.STAFF,
    "staff.supplies_pdf": Policy.STAFF,
    "staff.recall": Policy.STAFF,
    "staff.recall_close": Policy.STAFF,
    "staff.recall_called": Policy.STAFF,
    "staff.recall_new": Policy.STAFF,
    "staff.recall_notify": Policy.STAFF,
    "staff.recall_report_csv": Policy.STAFF,
    "staff.recall_report_pdf": Policy.STAFF,
    "staff.recall_resend": Policy.STAFF,
    "staff.recalls_list": Policy.STAFF,
    "recalls.index": Policy.CLINICIAN,
    "recalls.detail": Policy.CLINICIAN,
    "staff.order_ship": Policy.STAFF,
    "staff.lot": Policy.STAFF,
    "staff.stock_ledger_csv": Policy.STAFF,
    "staff.catalogue_variant": Policy.STAFF,
    "staff.catalogue_variant_new": Policy.STAFF,
    "staff.credit_note_pdf": Policy.STAFF,
    "staff.document": Policy.STAFF,
    "staff.invoice": Policy.STAFF,
    "staff.invoice_credit": Policy.STAFF,
    "staff.invoice_payment": Policy.STAFF,
    "staff.invoice_pdf": Policy.STAFF,
    "staff.invoices": Policy.STAFF,
    "staff.licences": Policy.STAFF,
    "staff.order": Policy.STAFF,
    "staff.orders_csv": Policy.STAFF,
    "staff.order_action": Policy.STAFF,
    "staff.order_new": Policy.STAFF,
    "staff.order_new_check": Policy.STAFF,
    "staff.order_payment_link": Policy.STAFF,
    "staff.order_packing_slip": Policy.STAFF,
    "staff.orders_list": Policy.STAFF,
    "staff.outbox": Policy.STAFF,
    "staff.practice": Policy.STAFF,
    "staff.practice_member_remove": Policy.STAFF,
    "staff.practice_price_remove": Policy.STAFF,
    "staff.practice_prices": Policy.STAFF,
    "staff.practice_reinstate": Policy.STAFF,
    "staff.practice_suspend": Policy.STAFF,
    "staff.practice_statement": Policy.STAFF,
    "staff.practice_statement_send": Policy.STAFF,
    "staff.practices_over_limit": Policy.STAFF,
    "staff.practices": Policy.STAFF,
    "staff.quote": Policy.STAFF,
    "staff.quote_add_line": Policy.STAFF,
    "staff.quote_comment": Policy.STAFF,
    "staff.quote_draft": Policy.STAFF,
    "staff.quote_pdf_file": Policy.STAFF,
    "staff.quote_save": Policy.STAFF,
    "staff.quote_send": Policy.STAFF,
    "staff.quote_start": Policy.STAFF,
    "staff.quotes_list": Policy.STAFF,
    "staff.reject": Policy.STAFF,
    "staff.request_info": Policy.STAFF,
    "staff.message": Policy.STAFF,
    "staff.message_html": Policy.STAFF,
    "staff.resend_message": Policy.STAFF,
    "staff.retry_message": Policy.STAFF,
    "staff.stop_message": Policy.STAFF,
    "staff.audit_csv": Policy.STAFF,
    "staff.audit_log": Policy.STAFF,
    "staff.reset_second_factor": Policy.ADMIN,
    "staff.set_user_active": Policy.ADMIN,
    "staff.set_user_desks": Policy.ADMIN,
    "staff.set_user_role": Policy.ADMIN,
    "staff.users": Policy.ADMIN,
}


# The desk each back-office page belongs to, and the desks that may also open it (GET) for
# context. A page with no desk is for every member of staff (or, by its policy, for admins).
DESKS = {
    "staff.application": (Desk.VERIFICATION, set()),
    "staff.applications": (Desk.VERIFICATION, set()),
    "staff.approve": (Desk.VERIFICATION, set()),
    "staff.attach": (Desk.VERIFICATION, set()),
    "staff.correct": (Desk.VERIFICATION, set()),
    "staff.audit_csv": (Desk.AUDIT, set()),
    "staff.audit_log": (Desk.AUDIT, set()),
    "staff.catalogue_csv": (Desk.CATALOGUE, set()),
    "staff.catalogue_image_add": (Desk.CATALOGUE, set()),
    "staff.catalogue_image_arrange": (Desk.CATALOGUE, set()),
    "staff.catalogue_import": (Desk.CATALOGUE, set()),
    "staff.catalogue_import_apply": (Desk.CATALOGUE, set()),
    "staff.catalogue_import_job": (Desk.CATALOGUE, set()),
    "staff.catalogue_import_progress": (Desk.CATALOGUE, set()),
    "staff.catalogue_names": (Desk.CATALOGUE, set()),
    "staff.catalogue_name_rename": (Desk.CATALOGUE, set()),
    "staff.catalogue_name_delete": (Desk.CATALOGUE, set()),
    "staff.catalogue_list": (Desk.CATALOGUE, set()),
    "staff.catalogue_low_stock": (Desk.CATALOGUE, set()),
    "staff.catalogue_new": (Desk.CATALOGUE, set()),
    "staff.catalogue_product": (Desk.CATALOGUE, set()),
    "staff.catalogue_status": (Desk.CATALOGUE, set()),
    "staff.catalogue_stock": (Desk.CATALOGUE, set()),
    "staff.lots": (Desk.CATALOGUE, {Desk.RECALLS, Desk.ORDERS}),
    "staff.supplies_page": (Desk.RECALLS, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.supplies_csv": (Desk.RECALLS, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.supplies_pdf": (Desk.RECALLS, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.recall": (Desk.RECALLS, set()),
    "staff.recall_close": (Desk.RECALLS, set()),
    "staff.recall_called": (Desk.RECALLS, set()),
    "staff.recall_new": (Desk.RECALLS, set()),
    "staff.recall_notify": (Desk.RECALLS, set()),
    "staff.recall_report_csv": (Desk.RECALLS, set()),
    "staff.recall_report_pdf": (Desk.RECALLS, set()),
    "staff.recall_resend": (Desk.RECALLS, set()),
    "staff.recalls_list": (Desk.RECALLS, set()),
    "staff.order_ship": (Desk.ORDERS, set()),
    "staff.lot": (Desk.CATALOGUE, {Desk.RECALLS, Desk.ORDERS}),
    "staff.stock_ledger_csv": (Desk.CATALOGUE, set()),
    "staff.catalogue_variant": (Desk.CATALOGUE, set()),
    "staff.catalogue_variant_new": (Desk.CATALOGUE, set()),
    "staff.document": (Desk.VERIFICATION, set()),
    "staff.credit_note_pdf": (Desk.FINANCE, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.invoice": (Desk.FINANCE, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.invoice_credit": (Desk.FINANCE, set()),
    "staff.invoice_payment": (Desk.FINANCE, set()),
    "staff.invoice_pdf": (Desk.FINANCE, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.invoices": (Desk.FINANCE, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.licences": (Desk.VERIFICATION, set()),
    "staff.order": (Desk.ORDERS, set()),
    "staff.orders_csv": (Desk.ORDERS, set()),
    "staff.order_action": (Desk.ORDERS, set()),
    "staff.order_new": (Desk.ORDERS, set()),
    "staff.order_new_check": (Desk.ORDERS, set()),
    "staff.order_payment_link": (Desk.ORDERS, set()),
    "staff.order_packing_slip": (Desk.ORDERS, set()),
    "staff.orders_list": (Desk.ORDERS, set()),
    "staff.practice": (Desk.CUSTOMERS, {Desk.ORDERS, Desk.QUOTES, Desk.FINANCE}),
    "staff.practice_member_remove": (Desk.CUSTOMERS, set()),
    "staff.practice_price_remove": (Desk.CUSTOMERS, set()),
    "staff.practice_prices": (Desk.CUSTOMERS, {Desk.ORDERS, Desk.QUOTES}),
    "staff.practice_reinstate": (Desk.CUSTOMERS, set()),
    "staff.practice_suspend": (Desk.CUSTOMERS, set()),
    "staff.practice_statement": (Desk.FINANCE, {Desk.ORDERS, Desk.CUSTOMERS}),
    "staff.practice_statement_send": (Desk.FINANCE, set()),
    "staff.practices_over_limit": (Desk.CUSTOMERS, {Desk.ORDERS, Desk.FINANCE}),
    "staff.practices": (Desk.CUSTOMERS, {Desk.ORDERS, Desk.QUOTES, Desk.FINANCE}),
    "staff.quote": (Desk.QUOTES, set()),
    "staff.quote_add_line": (Desk.QUOTES, set()),
    "staff.quote_comment": (Desk.QUOTES, set()),
    "staff.quote_draft": (Desk.QUOTES, set()),
    "staff.quote_pdf_file": (Desk.QUOTES, set()),
    "staff.quote_save": (Desk.QUOTES, set()),
    "staff.quote_send": (Desk.QUOTES, set()),
    "staff.quote_start": (Desk.QUOTES, set()),
    "staff.quotes_list": (Desk.QUOTES, set()),
    "staff.reject": (Desk.VERIFICATION, set()),
    "staff.request_info": (Desk.VERIFICATION, set()),
}


def test_every_endpoint_has_the_policy_the_contract_promises(app):
    with app.test_request_context():
        actual = {endpoint: policy_for(endpoint) for endpoint, _, _ in _routes(app)}
    assert actual == CONTRACT


def test_every_endpoint_declares_an_access_policy(app):
    with app.test_request_context():
        missing = sorted({endpoint for endpoint, _, _ in _routes(app) if policy_for(endpoint) is None})
    assert missing == []


def test_an_endpoint_without_a_policy_is_refused(app):
    """A route someone adds without declaring a policy is closed, not open."""
    from flask import Flask

    from shop.access import enforce_access

    bare = Flask(__name__)
    bare.secret_key = "x"
    from flask_login import LoginManager

    LoginManager(bare)
    bare.before_request(enforce_access)
    bare.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert bare.test_client().get("/forgotten").status_code == 403


@pytest.fixture
def visitors(make_client, signed_in):
    make_catalogue()
    clients = {"anonymous": make_client()}
    people = {
        "unverified": make_applicant(email="pending@clinic.example"),
        "verified": make_clinician(email="verified@clinic.example"),
        "staff": make_staff(email="staff@supplier.example"),
        "admin": make_staff(role=Role.ADMIN, email="admin@supplier.example"),
    }
    for name, user in people.items():
        clients[name] = signed_in(user)
    known = {
        "slug": db.session.scalars(db.select(Product.slug)).first(),
        "application_id": people["unverified"].application.id,
        "user_id": people["staff"].id,
    }
    return clients, known


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_gets_exactly_what_each_route_allows(app, visitors, visitor):
    clients, known = visitors
    client = clients[visitor]
    wrong = []
    for endpoint, method, rule in _routes(app):
        if endpoint == "auth.logout":
            continue  # would end this visitor's session; checked in its own test below
        with app.test_request_context():
            policy = policy_for(endpoint)
        url = _url(rule, known)
        response = client.get(url) if method == "GET" else client.post(url, {})
        got, expected = _outcome(response), EXPECTED[policy][visitor]
        if visitor == "staff" and endpoint in DESKS and DESKS[endpoint][0] not in WORK_DESKS:
            # The desks of the daily work do not include this one; one of them may read it.
            readable = method == "GET" and DESKS[endpoint][1] & WORK_DESKS
            expected = expected if readable else "403"
        if got != expected:
            wrong.append(f"{method} {url} ({policy}): expected {expected}, got {got} [{response.status_code}]")
    assert wrong == []


@pytest.mark.parametrize("visitor", VISITORS)
def test_logout_is_for_signed_in_accounts_only(visitors, visitor):
    clients, _ = visitors
    response = clients[visitor].post("/logout")
    assert _outcome(response) == ("login" if visitor == "anonymous" else "ok")


def test_no_page_shows_an_anonymous_visitor_a_product_or_a_price(app, visitors):
    clients, known = visitors
    names = [p.name for p in db.session.scalars(db.select(Product))]
    leaked = []
    for _endpoint, method, rule in _routes(app):
        url = _url(rule, known)
        response = clients["anonymous"].get(url) if method == "GET" else clients["anonymous"].post(url, {})
        body = text(response)
        for name in names:
            if name in body:
                leaked.append(f"{method} {url} shows {name}")
        if re.search(r"\$\s?\d", body):
            leaked.append(f"{method} {url} shows a price")
    assert leaked == []


def test_a_clinician_is_refused_every_back_office_page(app, visitors):
    clients, known = visitors
    for _endpoint, method, rule in _routes(app):
        if rule.rule.startswith("/staff"):
            url = _url(rule, known)
            for who in ("unverified", "verified"):
                response = clients[who].get(url) if method == "GET" else clients[who].post(url, {})
                assert response.status_code == 403, f"{who} reached {method} {url}"


def test_every_back_office_page_belongs_to_the_desk_the_contract_promises(app):
    with app.test_request_context():
        declared = {
            endpoint: (desk_for(endpoint), set(getattr(app.view_functions[endpoint], "read_desks", ())))
            for endpoint in app.view_functions
            if desk_for(endpoint) is not None
        }
    assert declared == DESKS


@pytest.fixture
def one_desk_clients(make_client, signed_in):
    make_catalogue()
    clients = {desk: signed_in(make_staff(email=f"{desk.value}@supplier.example", desks={desk})) for desk in Desk}
    applicant = make_applicant(email="pending@clinic.example")
    return clients, {
        "slug": db.session.scalars(db.select(Product.slug)).first(),
        "application_id": applicant.application.id,
        "user_id": applicant.id,
    }


@pytest.mark.parametrize("desk", list(Desk), ids=[d.value for d in Desk])
def test_a_staff_member_uses_only_the_desks_they_work(app, one_desk_clients, desk):
    clients, known = one_desk_clients
    client = clients[desk]
    wrong = []
    for endpoint, method, rule in _routes(app):
        if endpoint not in DESKS:
            continue
        own, readers = DESKS[endpoint]
        url = _url(rule, known)
        response = client.get(url) if method == "GET" else client.post(url, {})
        allowed = own == desk or (method == "GET" and desk in readers)
        if (response.status_code == 403) == allowed:
            wrong.append(f"{method} {url}: {'refused' if allowed else 'allowed'} for the {desk.value} desk")
    assert wrong == []
