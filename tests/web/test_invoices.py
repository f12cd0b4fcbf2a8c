"""Invoices in the browser: a practice's clinicians download theirs (an owner every one of the
practice's, a buyer those of their own orders) from the order and the invoices page, never another
practice's; the finance desk lists them by what is owed, records payments and issues credit notes,
and every mistake a clerk can type gets a message next to its field."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock
from shop.access import Desk
from shop.core.audit import AuditEntry
from shop.extensions import db
from shop.invoicing import receipts
from shop.invoicing.models import CreditNote, Invoice, InvoicePayment
from shop.ordering import orders
from shop.ordering.models import CancelCause, Order
from tests.factories import fill_cart, invoiced_order, make_clinician, make_finance_clerk, make_staff
from tests.helpers import delivered, field_error, flashes, pdf_text, redirect_path, reload, text


@pytest.fixture
def finance(signed_in):
    clerk = make_finance_clerk(full_name="Fiona Finance")
    return signed_in(clerk), clerk


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- the clinician's side ---------------------------------------------------------------------------


def test_the_owner_downloads_every_invoice_of_the_practice_and_a_buyer_only_those_of_their_orders(signed_in):
    owner = make_clinician(on_account=True, full_name="Dr Maeve Byrne")
    buyer = make_clinician(practice_of=owner, full_name="Nurse Orla Kelly")
    mine = invoiced_order(owner)
    theirs = invoiced_order(buyer, lines=(("INV-2", 1),))

    as_owner, as_buyer = signed_in(owner), signed_in(buyer)

    owner_page = text(as_owner.get("/invoices"))
    assert mine.invoice.number in owner_page and theirs.invoice.number in owner_page
    assert "Your practice owes" in owner_page
    buyer_page = text(as_buyer.get("/invoices"))
    assert theirs.invoice.number in buyer_page and mine.invoice.number not in buyer_page
    pdf = as_buyer.get(f"/invoices/{theirs.invoice.number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert theirs.invoice.number in pdf_text(pdf.get_data())
    assert as_buyer.get(f"/invoices/{mine.invoice.number}.pdf").status_code == 404
    order_page = text(as_buyer.get(f"/orders/{mine.number}"))
    assert f"{mine.invoice.number} (your practice's owners have it)" in order_page
    assert f"{theirs.invoice.number} (PDF)" in text(as_buyer.get(f"/orders/{theirs.number}"))


def test_another_practices_invoices_and_credit_notes_are_404(signed_in):
    order = invoiced_order()
    orders.cancel(reload(Order, order.id), make_staff(), "Cancelled.", CancelCause.STAFF)
    note = db.session.scalar(select(CreditNote))
    stranger = signed_in(make_clinician())

    assert stranger.get(f"/invoices/{order.invoice.number}.pdf").status_code == 404
    assert stranger.get(f"/credit-notes/{note.number}.pdf").status_code == 404
    assert stranger.get("/invoices/INV-2026-999999.pdf").status_code == 404
    assert stranger.get("/invoices/INV-26-1.pdf").status_code == 404
    assert order.invoice.number not in text(stranger.get("/invoices"))
    owner = signed_in(reload(order).placed_by)
    assert owner.get(f"/credit-notes/{note.number}.pdf").status_code == 200


def test_an_overdue_practice_is_told_why_it_cannot_order_on_account(signed_in):
    clinician = make_clinician(on_account=True, payment_terms_days=10)
    invoiced_order(clinician)
    fill_cart(clinician, ("INV-1", 1))

    with time_machine.travel(clock.now() + timedelta(days=12)):
        browser = signed_in(clinician)
        page = text(browser.get("/checkout"))
        invoices = text(browser.get("/invoices"))

    assert "overdue" in page.lower() and "On account (invoice)" not in page
    assert "Overdue" in invoices


# --- the finance desk -------------------------------------------------------------------------------


def test_the_finance_desk_lists_unpaid_overdue_and_paid_invoices_by_practice_and_period(finance):
    browser, clerk = finance
    late_practice = make_clinician(on_account=True, payment_terms_days=5, practice_name="Late Payers Clinic")
    with time_machine.travel(clock.now() - timedelta(days=20)):
        late = invoiced_order(late_practice)
    prompt = invoiced_order(practice_name="Prompt Clinic")
    receipts.record_payment(
        clerk,
        reload(prompt.invoice),
        receipts.Receipt(received_on=clock.today(), amount_cents=prompt.total_cents, reference="T1"),
    )

    unpaid = text(browser.get("/staff/invoices"))
    overdue = text(browser.get("/staff/invoices?shown=overdue"))
    paid_list = text(browser.get("/staff/invoices?shown=paid"))
    by_practice = text(browser.get(f"/staff/invoices?shown=all&practice={late.practice_id}"))
    period = text(browser.get(f"/staff/invoices?shown=all&since={clock.today().isoformat()}"))

    assert late.invoice.number in unpaid and prompt.invoice.number not in unpaid
    assert late.invoice.number in overdue and "days overdue" in overdue
    assert prompt.invoice.number in paid_list and late.invoice.number not in paid_list
    assert late.invoice.number in by_practice and prompt.invoice.number not in by_practice
    assert prompt.invoice.number in period and late.invoice.number not in period


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-13-45",
        "since=2027-01-02&until=2026-01-01",
        "practice=abc",
        "practice=99999999999",
        "shown=<x>",
        "page=-4",
    ],
)
def test_odd_filters_never_break_the_list(finance, query):
    browser, _ = finance
    invoiced_order()

    response = browser.get(f"/staff/invoices?{query}")

    assert response.status_code == 200


def test_the_finance_desk_records_a_part_payment_and_then_the_rest(finance):
    browser, clerk = finance
    order = invoiced_order()
    number = order.invoice.number
    url = f"/staff/invoices/{number}"

    first = browser.post(
        f"{url}/payments",
        {"received_on": clock.today().isoformat(), "amount": "100.00", "reference": "BOI 1234", "kind": "transfer"},
    )

    assert first.status_code == 303
    assert ("success", f"Payment of 100.00 recorded on {number}.") in flashes(browser.get(url))
    invoice = reload(Invoice, order.invoice.id)
    assert invoice.outstanding_cents == order.total_cents - 10_000
    [entry] = audit("payment.recorded")
    assert entry.actor_id == clerk.id and entry.changes["amount_cents"] == [None, 10_000]
    rest = f"{(order.total_cents - 10_000) / 100:.2f}"
    browser.post(
        f"{url}/payments",
        {"received_on": clock.today().isoformat(), "amount": rest, "reference": "BOI 1300", "kind": "cheque"},
    )
    assert reload(Invoice, invoice.id).outstanding_cents == 0
    assert "Settled" in text(browser.get(url))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "abc"}, "amount", "Not a valid decimal value."),
        ({"amount": "-5"}, "amount", "Between 0 and 10,000,000."),
        ({"amount": "0"}, "amount", "above zero"),
        ({"amount": "999999"}, "amount", "is owed"),
        ({"received_on": "tomorrow"}, "received_on", "YYYY-MM-DD"),
        ({"received_on": "2999-01-01"}, "received_on", "cannot be in the future"),
        ({"reference": ""}, "reference", "Enter the reference"),
        ({"kind": "refund"}, "kind", "Not a valid choice"),
    ],
)
def test_a_payment_mistyped_gets_a_message_next_to_its_field_and_nothing_is_recorded(finance, fields, field, message):
    browser, _ = finance
    order = invoiced_order()
    values = {
        "received_on": clock.today().isoformat(),
        "amount": "10",
        "reference": "REF",
        "kind": "transfer",
        **fields,
    }

    response = browser.post(f"/staff/invoices/{order.invoice.number}/payments", values)

    assert response.status_code == 422 and message in field_error(response, field)
    assert db.session.scalar(select(InvoicePayment)) is None


def test_the_finance_desk_credits_packs_of_a_line_and_the_practice_gets_the_credit_note(finance, mailbox):
    browser, _ = finance
    order = invoiced_order(lines=(("INV-1", 4),))
    invoice = order.invoice
    line = invoice.lines[0]

    response = browser.post(
        f"/staff/invoices/{invoice.number}/credit-notes",
        {"reason": "Two packs arrived warm.", "credit": "lines", f"packs-{line.id}": "2"},
    )

    assert response.status_code == 303
    [note] = reload(invoice).credit_notes
    assert note.subtotal_cents == 2 * line.unit_price_cents
    assert ("success", f"Credit note {note.number} issued and emailed.") in flashes(
        browser.get(f"/staff/invoices/{invoice.number}")
    )
    [entry] = audit("credit_note.issued")
    assert entry.note == "Two packs arrived warm."
    pdf = browser.get(f"/staff/credit-notes/{note.number}.pdf")
    assert "Two packs arrived warm." in pdf_text(pdf.get_data())
    assert delivered(mailbox, order.clinician_email, f"Credit note {note.number}")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"reason": "", "credit": "amount", "amount": "10"}, "reason", "Give the reason"),
        ({"reason": "x", "credit": "amount", "amount": ""}, "amount", "Enter the amount"),
        ({"reason": "x", "credit": "amount", "amount": "NaN"}, "amount", "Enter an amount"),
        ({"reason": "x", "credit": "amount", "amount": "99999"}, "amount", "is left to credit"),
        ({"reason": "x", "credit": "lines", "packs-LINE": "two"}, "credit", "whole number of packs"),
        ({"reason": "x", "credit": "lines", "packs-LINE": "9"}, "quantities", None),
        ({"reason": "x", "credit": "lines"}, "amount", "Choose what to credit"),
        ({"reason": "x", "credit": "everything"}, "credit", "Not a valid choice"),
    ],
)
def test_a_credit_note_mistyped_is_refused_with_a_message_and_nothing_is_issued(finance, fields, field, message):
    browser, _ = finance
    order = invoiced_order(lines=(("INV-1", 2),))
    line_id = order.invoice.lines[0].id
    values = {name.replace("LINE", str(line_id)): value for name, value in fields.items()}

    response = browser.post(f"/staff/invoices/{order.invoice.number}/credit-notes", values)

    assert response.status_code == 422
    shown = field_error(response, field) or text(response)
    assert message is None or message in shown
    assert db.session.scalar(select(CreditNote)) is None


def test_the_orders_desk_reads_invoices_but_the_finance_desk_alone_records_money(signed_in):
    order = invoiced_order()
    reader = signed_in(make_staff(desks={Desk.ORDERS}))
    number = order.invoice.number

    page = reader.get(f"/staff/invoices/{number}")

    assert page.status_code == 200 and "Record a payment" not in text(page)
    assert reader.get(f"/staff/invoices/{number}.pdf").status_code == 200
    assert reader.post(f"/staff/invoices/{number}/payments", {"amount": "1"}).status_code == 403
    assert reader.post(f"/staff/invoices/{number}/credit-notes", {"reason": "x"}).status_code == 403
    verifier = signed_in(make_staff(desks={Desk.VERIFICATION}))
    assert verifier.get(f"/staff/invoices/{number}").status_code == 403
    assert verifier.get("/staff/invoices").status_code == 403


def test_unknown_invoice_numbers_are_404_at_the_desk(finance):
    browser, _ = finance
    assert browser.get("/staff/invoices/INV-2026-000404").status_code == 404
    assert browser.get("/staff/credit-notes/CN-2026-000404.pdf").status_code == 404
    assert browser.post("/staff/invoices/INV-2026-000404/payments", {"amount": "1"}).status_code == 404


def test_the_practice_page_shows_the_balance_and_the_statement_goes_to_the_owners(finance, mailbox):
    browser, _ = finance
    owner = make_clinician(on_account=True, full_name="Dr Maeve Byrne")
    nurse = make_clinician(practice_of=owner, full_name="Nurse Orla Kelly")
    order = invoiced_order(owner)

    page = text(browser.get(f"/staff/practices/{owner.practice_id}"))
    statement = browser.get(f"/staff/practices/{owner.practice_id}/statement.pdf")
    sent = browser.post(f"/staff/practices/{owner.practice_id}/statement")

    assert f"{order.total_cents / 100:,.2f} owed on invoices" in page
    words = pdf_text(statement.get_data())
    assert "Statement of account" in words and order.invoice.number in words and "Balance due" in words
    assert redirect_path(sent).startswith(f"/staff/practices/{owner.practice_id}")
    [message] = delivered(mailbox, owner.email, "Statement of account")
    assert delivered(mailbox, nurse.email, "Statement") == []
    assert audit("practice.statement_sent")
    assert message.get_content_type() == "multipart/mixed"
