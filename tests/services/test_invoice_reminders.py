"""Overdue invoices: reminders to the practice's owners on the configured days after the due
date, once each; the statement of account with its running balance and ages; and the dashboard's
queues of overdue invoices and practices over their credit limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from shop import clock, create_app
from shop.errors import NotEligible
from shop.extensions import db
from shop.invoicing import receipts, reminders, statements
from shop.invoicing.credit_notes import Credit, issue_credit_note
from shop.invoicing.models import InvoiceReminder
from shop.ordering.models import Order
from tests.factories import invoiced_order, make_clinician, make_finance_clerk, make_staff
from tests.helpers import delivered, reload, text


def later(days: int):
    return time_machine.travel(clock.now() + timedelta(days=days))


def test_the_owners_are_reminded_on_each_configured_day_once(mailbox):
    owner = make_clinician(on_account=True, payment_terms_days=30, full_name="Dr Maeve Byrne")
    buyer = make_clinician(practice_of=owner)
    invoice = invoiced_order(buyer).invoice

    subjects = []
    for days, expected in ((6, 0), (7, 1), (7, 0), (8, 0), (21, 1)):
        with later(30 + days):
            assert reminders.send_reminders() == expected, days
            subjects += [m["Subject"] for m in delivered(mailbox, owner.email, "Reminder")]
            mailbox.clear()

    assert subjects == [
        f"Reminder: invoice {invoice.number} is 7 days overdue",
        f"Reminder: invoice {invoice.number} is 21 days overdue",
    ]
    with later(30 + 21):
        assert delivered(mailbox, buyer.email, "Reminder") == []


def test_an_invoice_found_late_gets_the_latest_reminder_only_and_a_paid_one_none(mailbox):
    owner = make_clinician(on_account=True, payment_terms_days=30)
    forgotten = invoiced_order(owner).invoice
    settled = invoiced_order(owner, lines=(("INV-2", 1),)).invoice
    receipts.record_payment(
        make_finance_clerk(),
        settled,
        receipts.Receipt(received_on=clock.today(), amount_cents=settled.total_cents, reference="T"),
    )

    with later(30 + 25):
        assert reminders.send_reminders() == 1
        sent = [m["Subject"] for m in delivered(mailbox, owner.email, "Reminder")]

    assert sorted(db_reminders(forgotten.id)) == [7, 21]
    assert sent == [f"Reminder: invoice {forgotten.number} is 25 days overdue"]


def db_reminders(invoice_id: int) -> list[int]:
    return list(
        db.session.scalars(select(InvoiceReminder.days_overdue).where(InvoiceReminder.invoice_id == invoice_id))
    )


def test_the_reminder_days_come_from_the_configuration_and_nonsense_is_refused_at_start(app_config):
    assert reminders.reminder_days("14, 3,30") == [3, 14, 30]
    for nonsense in ("soon", "0,7", "-1"):
        with pytest.raises(RuntimeError, match="INVOICE_REMINDER_DAYS"):
            create_app("testing", **app_config, INVOICE_REMINDER_DAYS=nonsense)


def test_the_command_sends_the_reminders_due(cli):
    invoiced_order(make_clinician(on_account=True, payment_terms_days=0))

    with later(7):
        result = cli("send-invoice-reminders")

    assert result.exit_code == 0 and "1 overdue invoice reminded" in result.output


# --- the statement of account ----------------------------------------------------------------------


def test_the_statement_carries_the_balance_forward_and_lists_every_movement_with_the_running_balance():
    owner = make_clinician(on_account=True, payment_terms_days=30)
    clerk = make_finance_clerk()
    recent = invoiced_order(owner, lines=(("INV-2", 1),)).invoice
    with time_machine.travel(clock.now() - timedelta(days=130)):
        old = invoiced_order(owner).invoice
    receipts.record_payment(
        clerk, reload(old), receipts.Receipt(received_on=clock.today(), amount_cents=10_000, reference="BOI-1")
    )
    issue_credit_note(clerk, reload(recent), Credit(reason="Goodwill.", amount_cents=1_230))

    statement = statements.statement_of(reload(owner).practice)

    assert statement.opening == old.total_cents
    assert [entry.what for entry in statement.entries] == ["Invoice", "Credit note", "Payment (bank transfer)"]
    assert statement.closing == old.total_cents + recent.total_cents - 1_230 - 10_000
    assert statement.entries[-1].balance == statement.closing
    ages = dict(statement.ages)
    assert ages["Over 90 days"] == old.total_cents - 10_000
    assert ages["Not yet due"] == recent.total_cents - 1_230


def test_a_statement_goes_only_to_active_owners_and_only_from_the_finance_desk(mailbox):
    owner = make_clinician(on_account=True)
    invoiced_order(owner)

    with pytest.raises(NotEligible, match="finance desk"):
        statements.send_statement(make_staff(), reload(owner).practice)
    assert statements.send_statement(make_finance_clerk(), reload(owner).practice) == 1


# --- the dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_counts_overdue_invoices_and_practices_over_their_credit_limit(signed_in):
    over = make_clinician(on_account=True, credit_limit_cents=100_000, payment_terms_days=5)
    invoiced_order(over, lines=(("INV-1", 4),))
    reload(over).practice.credit_limit_cents = 10_000
    db.session.commit()

    with later(6):
        board = signed_in(make_finance_clerk())
        page = text(board.get("/staff"))
        listed = text(board.get("/staff/practices/over-limit"))

    assert "1 overdue invoice" in page
    assert "1 practice over its credit limit" in page
    assert reload(over).practice.name in listed
    assert db.session.scalar(select(db.func.count()).select_from(Order)) == 1
