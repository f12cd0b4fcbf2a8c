"""Invoicing: invoices and credit notes numbered without gaps per year, the payments recorded
against them, a practice's balance and overdue invoices, reminders and statements of account."""
