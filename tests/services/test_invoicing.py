"""Invoices: issued when an order on account is confirmed or a card order is paid, numbered
without gaps per year, never changed once issued, with a PDF on the letterhead that reads back
with every figure; credit notes for cancellations, refunds, chosen packs or an amount; payments
against them; and the practice's balance, which its credit limit and overdue invoices follow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select, text

from shop import clock
from shop.access import Desk
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing import balances, credit_notes, receipts
from shop.invoicing.credit_notes import Credit, Refund
from shop.invoicing.documents import credit_note_pdf, invoice_pdf
from shop.invoicing.models import CreditNote, DocumentIsImmutable, Invoice, InvoicePayment, PaymentKind
from shop.ordering import billing, credit, orders
from shop.ordering.models import CancelCause, Order, OrderStatus, PaymentMethod
from tests.factories import (
    fill_cart,
    invoiced_order,
    make_clinician,
    make_finance_clerk,
    make_staff,
    make_variant,
    place_order,
    ship_order,
)
from tests.helpers import delivered, pdf_attachment, pdf_text, reload


def paid(staff, invoice: Invoice, amount: int, *, on: date | None = None, reference: str = "TRF-1"):
    return receipts.record_payment(
        staff,
        reload(invoice),
        receipts.Receipt(received_on=on or clock.today(), amount_cents=amount, reference=reference),
    )


# --- issuing ----------------------------------------------------------------------------------


def test_confirming_an_order_on_account_issues_its_invoice_with_every_figure_of_the_order(app, mailbox):
    order = invoiced_order(
        lines=(("INV-1", 2), ("INV-2", 1)), price_cents=12_345, po_number="PO-77", full_name="Dr Maeve Byrne"
    )
    invoice = order.invoice
    year = clock.today().year

    assert invoice.number == f"INV-{year}-000001"
    assert (invoice.subtotal_cents, invoice.shipping_cents, invoice.tax_cents, invoice.total_cents) == (
        order.subtotal_cents,
        order.shipping_cents,
        order.tax_cents,
        order.total_cents,
    )
    assert [(line.sku, line.quantity, line.unit_price_cents) for line in invoice.lines] == [
        ("INV-1", 2, 12_345),
        ("INV-2", 1, 12_345),
    ]
    assert invoice.due_date == clock.today() + timedelta(days=30)
    assert invoice.outstanding_cents == order.total_cents
    words = pdf_text(invoice_pdf(invoice))
    for fact in (
        f"Invoice INV-{year}-000001",
        app.config["SELLER_LEGAL_NAME"],
        f"VAT number {app.config['SELLER_VAT_NUMBER']}",
        "Dr Maeve Byrne Practice",
        "12 Grand Parade",
        "PO-77",
        order.number,
        "INV-1",
        "$123.45",
        "$246.90",
        "23%",
        f"VAT 23% on ${(order.subtotal_cents + order.shipping_cents) / 100:,.2f}",
        f"${order.total_cents / 100:,.2f}",
        app.config["SELLER_IBAN"],
        "Payment due within 30 days",
    ):
        assert fact in words, fact
    [message] = delivered(mailbox, order.clinician_email, "Invoice")
    name, data = pdf_attachment(message)
    assert name == f"{invoice.number}.pdf" and invoice.number in pdf_text(data)


def test_invoices_are_numbered_one_after_the_other_and_start_again_each_year():
    clinician = make_clinician(on_account=True)
    first = invoiced_order(clinician)
    second = invoiced_order(clinician, lines=(("INV-2", 1),))
    year = clock.today().year
    with time_machine.travel(date(year + 1, 1, 2)):
        next_year = invoiced_order(clinician, lines=(("INV-3", 1),))

    assert [first.invoice.number, second.invoice.number] == [f"INV-{year}-000001", f"INV-{year}-000002"]
    assert next_year.invoice.number == f"INV-{year + 1}-000001"


def test_a_card_order_is_invoiced_when_paid_and_the_invoice_shows_the_payment():
    clinician = make_clinician()
    make_variant("CARD-1", price_cents=10_000, stock=10)
    fill_cart(clinician, ("CARD-1", 1))
    order = place_order(clinician, method=PaymentMethod.CARD)
    assert orders.invoice_if_sold(order, None) is None
    orders.move(order, OrderStatus.PAID, None, "paid", "Paid.", paid_at=clock.now(), stripe_payment_intent="pi_123")
    orders.invoice_if_sold(order, None)
    db.session.commit()

    invoice = reload(Order, order.id).invoice
    assert invoice.outstanding_cents == 0 and invoice.due_date == invoice.issue_date
    assert [(p.kind, p.amount_cents, p.reference) for p in invoice.payments] == [("card", order.total_cents, "pi_123")]
    assert "Paid by card on" in pdf_text(invoice_pdf(invoice))


def test_an_issued_invoice_is_never_changed_by_the_shop_or_in_the_database():
    invoice = invoiced_order().invoice

    invoice.total_cents = 1
    with pytest.raises(DocumentIsImmutable):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(Exception, match="never changed"):
        db.session.connection().execute(text("UPDATE invoices SET total_cents = 1"))
    db.session.rollback()
    with pytest.raises(Exception, match="never changed"):
        db.session.connection().execute(text("DELETE FROM invoice_lines"))
    db.session.rollback()
    assert reload(invoice).total_cents != 1 and len(reload(invoice).lines) == 1


def test_a_number_taken_by_a_transaction_that_rolls_back_is_given_to_the_next_invoice():
    clinician = make_clinician(on_account=True)
    staff = make_staff()
    make_variant("GAP-1", stock=10)
    fill_cart(clinician, ("GAP-1", 1))
    failing = place_order(clinician)
    billing.invoice_order(reload(Order, failing.id), staff)
    db.session.rollback()

    assert db.session.scalar(select(Invoice)) is None
    later = invoiced_order(clinician, lines=(("GAP-2", 1),))
    assert later.invoice.number.endswith("-000001")


# --- credit notes -------------------------------------------------------------------------------


def test_cancelling_an_invoiced_order_credits_the_whole_invoice(mailbox):
    order = invoiced_order()
    invoice = order.invoice
    desk = make_staff()

    orders.cancel(order, desk, "The clinic closed for renovation.", CancelCause.STAFF)

    invoice = reload(invoice)
    [note] = invoice.credit_notes
    assert note.number == f"CN-{clock.today().year}-000001"
    assert (note.subtotal_cents, note.tax_cents, note.total_cents) == (
        invoice.subtotal_cents,
        invoice.tax_cents,
        invoice.total_cents,
    )
    assert invoice.outstanding_cents == 0 and balances.practice_balance(invoice.practice_id) == 0
    words = pdf_text(credit_note_pdf(note))
    assert f"Credit note {note.number}" in words and invoice.number in words and "renovation" in words
    assert [e.action for e in reload(Order, order.id).events][-1] == "credited"
    assert delivered(mailbox, order.clinician_email, f"Credit note {note.number}")


def test_refunding_a_paid_invoice_credits_it_and_records_the_money_paid_back():
    order = invoiced_order()
    desk = make_finance_clerk()
    ship_order(order, desk, "DHL", "JD1")
    paid(desk, order.invoice, order.total_cents)

    orders.mark_refunded(reload(Order, order.id), desk, "Transfer of the full amount, ref RF-9.")

    invoice = reload(order.invoice)
    assert invoice.credited_cents == invoice.total_cents
    assert [p.amount_cents for p in invoice.payments] == [order.total_cents, -order.total_cents]
    assert invoice.outstanding_cents == 0 and balances.practice_balance(invoice.practice_id) == 0


def test_the_finance_desk_credits_chosen_packs_then_the_rest_and_the_notes_add_up_to_the_invoice():
    order = invoiced_order(lines=(("INV-1", 3),), price_cents=9_999)
    invoice = order.invoice
    clerk = make_finance_clerk()
    line = invoice.lines[0]

    first = credit_notes.issue_credit_note(
        clerk, invoice, Credit(reason="One pack arrived broken.", quantities={line.id: 1})
    )
    with pytest.raises(NotEligible, match="at most 2 pack"):
        credit_notes.issue_credit_note(clerk, reload(invoice), Credit(reason="Again.", quantities={line.id: 3}))
    db.session.rollback()
    rest = credit_notes.issue_credit_note(clerk, reload(invoice), Credit(reason="Order returned.", everything=True))

    assert (first.subtotal_cents, first.tax_cents) == (9_999, 2_300)
    assert first.total_cents + rest.total_cents == invoice.total_cents
    assert first.tax_cents + rest.tax_cents == invoice.tax_cents
    assert reload(invoice).outstanding_cents == 0
    with pytest.raises(NotEligible, match="credited in full"):
        credit_notes.issue_credit_note(clerk, reload(invoice), Credit(reason="Once more.", amount_cents=100))


def test_an_amount_is_credited_with_its_tax_and_never_beyond_what_is_left():
    invoice = invoiced_order().invoice
    clerk = make_finance_clerk()

    note = credit_notes.issue_credit_note(clerk, invoice, Credit(reason="Goodwill.", amount_cents=12_300))

    assert (note.subtotal_cents, note.tax_cents, note.total_cents) == (10_000, 2_300, 12_300)
    with pytest.raises(NotEligible, match="is left to credit"):
        credit_notes.issue_credit_note(
            clerk, reload(invoice), Credit(reason="Too much.", amount_cents=invoice.total_cents)
        )


def test_only_the_finance_desk_issues_credit_notes_and_records_payments():
    invoice = invoiced_order().invoice
    orders_desk = make_staff(desks={Desk.ORDERS})

    with pytest.raises(NotEligible):
        credit_notes.issue_credit_note(orders_desk, invoice, Credit(reason="No.", amount_cents=100))
    with pytest.raises(NotEligible):
        paid(orders_desk, invoice, 100)
    assert db.session.scalar(select(CreditNote)) is None and db.session.scalar(select(InvoicePayment)) is None


def test_a_credit_refunded_to_the_practice_is_recorded_as_money_paid_back():
    invoice = invoiced_order().invoice
    clerk = make_finance_clerk()
    paid(clerk, invoice, invoice.total_cents)

    credit_notes.issue_credit_note(
        clerk,
        reload(invoice),
        Credit(reason="Price agreed after the fact.", amount_cents=2_460),
        Refund(kind=PaymentKind.TRANSFER, reference="RF-2"),
    )

    invoice = reload(invoice)
    assert invoice.payments[-1].amount_cents == -2_460 and invoice.outstanding_cents == 0


# --- payments and the balance ---------------------------------------------------------------------


def test_part_payments_reduce_what_is_owed_and_an_overpayment_is_refused():
    invoice = invoiced_order().invoice
    clerk = make_finance_clerk()
    total = invoice.total_cents

    paid(clerk, invoice, 10_000, reference="TRF-A")
    assert reload(invoice).outstanding_cents == total - 10_000
    with pytest.raises(NotEligible, match="is owed"):
        paid(clerk, invoice, total)
    db.session.rollback()
    paid(clerk, invoice, total - 10_000, reference="TRF-B")

    assert reload(invoice).outstanding_cents == 0
    with pytest.raises(NotEligible, match="Nothing is owed"):
        paid(clerk, invoice, 1)


@pytest.mark.parametrize(
    ("days", "amount", "reference", "field"),
    [(1, 100, "X", "received_on"), (-400, 100, "X", "received_on"), (0, 0, "X", "amount"), (0, 100, " ", "reference")],
)
def test_a_payment_that_cannot_be_right_is_refused_with_its_field(days, amount, reference, field):
    invoice = invoiced_order().invoice

    with pytest.raises(NotEligible) as refused:
        paid(make_finance_clerk(), invoice, amount, on=clock.today() + timedelta(days=days), reference=reference)

    assert refused.value.field == field


def test_the_credit_available_counts_invoices_less_credit_notes_less_payments_and_orders_not_yet_invoiced():
    clinician = make_clinician(on_account=True, credit_limit_cents=100_000)
    clerk = make_finance_clerk()
    order = invoiced_order(clinician)
    fill_cart(clinician, ("INV-1", 1))
    pending = place_order(clinician)

    assert credit.open_account_balance(clinician.practice_id) == order.total_cents + pending.total_cents
    paid(clerk, order.invoice, 5_000)
    credit_notes.issue_credit_note(clerk, reload(order.invoice), Credit(reason="Goodwill.", amount_cents=1_000))
    assert credit.available_credit(reload(clinician)) == 100_000 - (
        order.total_cents - 5_000 - 1_000 + pending.total_cents
    )


def test_an_overdue_invoice_stops_orders_on_account_until_it_is_paid_but_card_stays_open():
    clinician = make_clinician(on_account=True, payment_terms_days=14)
    invoice = invoiced_order(clinician).invoice
    assert PaymentMethod.ACCOUNT in credit.payment_methods(clinician)

    with time_machine.travel(clock.now() + timedelta(days=15)):
        assert balances.has_overdue(clinician.practice_id, clock.today())
        methods = credit.payment_methods(reload(clinician))
        assert PaymentMethod.ACCOUNT not in methods and PaymentMethod.CARD in methods
        paid(make_finance_clerk(), invoice, invoice.total_cents)
        assert PaymentMethod.ACCOUNT in credit.payment_methods(reload(clinician))


def test_a_legacy_order_sold_before_invoices_gets_one_from_the_desk():
    clinician = make_clinician(on_account=True)
    make_variant("OLD-1", stock=10)
    fill_cart(clinician, ("OLD-1", 1))
    order = place_order(clinician)
    orders.move(order, OrderStatus.PROCESSING, None, "confirmed", "Confirmed before invoices.")
    db.session.commit()

    orders.issue_invoice(reload(Order, order.id), make_staff())

    assert reload(Order, order.id).invoice.total_cents == order.total_cents
