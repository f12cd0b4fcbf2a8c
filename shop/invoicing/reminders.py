"""Reminders of overdue invoices: on each day of INVOICE_REMINDER_DAYS after an invoice's due date
(7, 21 and 45 unless set), while it is unpaid, its practice's owners are emailed once. A reminder
is recorded with the days it is for, so it is sent once however often the worker runs (and by
whichever worker); an invoice found late gets the latest reminder due, not every one it missed."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop import clock
from shop.core.db import unit_of_work
from shop.core.outbox import queue_email
from shop.extensions import db
from shop.invoicing import balances
from shop.invoicing.models import Invoice, InvoiceReminder
from shop.practices.models import Practice
from shop.urls import external_url


def reminder_days(setting: str | None = None) -> list[int]:
    """The days after the due date on which to remind, from INVOICE_REMINDER_DAYS ("7,21,45");
    ValueError for anything but whole days from 1 on."""
    raw = current_app.config["INVOICE_REMINDER_DAYS"] if setting is None else setting
    days = sorted({int(part) for part in str(raw).replace(" ", "").split(",") if part})
    if any(day < 1 for day in days):
        raise ValueError("reminder days are counted from 1 day after the due date")
    return days


def send_reminders(today: date | None = None) -> int:
    """Remind the owners of every practice with an invoice due a reminder; returns how many
    invoices were reminded about."""
    today = today or clock.today()
    days = reminder_days()
    if not days:
        return 0
    due = db.session.scalars(
        select(Invoice.id).where(*balances.overdue(today), Invoice.due_date <= today - timedelta(days=days[0]))
    ).all()
    reminded = 0
    for invoice_id in due:
        try:
            reminded += _remind(db.session.get(Invoice, invoice_id), today, days)
        except IntegrityError:
            db.session.rollback()  # another worker sent it a moment ago
    return reminded


def _remind(invoice: Invoice, today: date, days: list[int]) -> bool:
    late = (today - invoice.due_date).days
    reached = [day for day in days if day <= late]
    sent = set(db.session.scalars(select(InvoiceReminder.days_overdue).where(InvoiceReminder.invoice_id == invoice.id)))
    if not reached or reached[-1] in sent:
        return False
    practice = db.session.get(Practice, invoice.practice_id)
    with unit_of_work():
        for day in reached:
            if day not in sent:
                db.session.add(InvoiceReminder(invoice_id=invoice.id, days_overdue=day, sent_at=clock.now()))
        db.session.flush()
        for owner in practice.active_owners:
            queue_email(
                kind="invoice.reminder",
                to=owner.email,
                subject=f"Reminder: invoice {invoice.number} is {late} days overdue",
                template="invoice_reminder",
                owner=owner,
                invoice=invoice,
                late=late,
                link=external_url("invoices.index"),
                reply_to=current_app.config["ORDERS_DESK_EMAIL"],
            )
    return True
