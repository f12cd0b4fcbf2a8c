"""Invoices and credit notes as issued documents, the payments recorded against invoices, the
reminders sent about overdue ones, and the numbering of both kinds of document.

An issued invoice or credit note is never changed: every figure on it, the seller's legal
details and the buyer's name and address are copied when it is issued, and the session refuses
to flush an edited one (a trigger refuses it in the database as well, migration 2b1c0e6f9a10).
What happens afterwards (payments, credit notes, reminders) is recorded in rows of its own."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shop.core.db import UTCDateTime
from shop.core.enums import LabelledEnum
from shop.extensions import db

IMMUTABLE = "An issued invoice or credit note is never changed: issue a credit note instead."


class DocumentIsImmutable(RuntimeError):
    """Something tried to change or remove an issued invoice or credit note."""


class DocumentNumber(db.Model):
    """The last number given to one kind of document ("INV", "CN") in one year."""

    __tablename__ = "document_numbers"
    __table_args__ = (UniqueConstraint("kind", "year", name="uq_document_numbers_kind_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class IssuedDocument:
    """What an invoice and a credit note both copy when issued."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    issue_date: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    # The seller's legal details (name, address, VAT and company numbers, bank) and the buyer's
    # (practice, billing address, contact) as they were on the day of issue.
    seller: Mapped[dict] = mapped_column(JSON)
    buyer_name: Mapped[str] = mapped_column(String(160))
    buyer_address: Mapped[str] = mapped_column(Text)
    order_number: Mapped[str] = mapped_column(String(20), default="")
    po_number: Mapped[str] = mapped_column(String(60), default="")
    subtotal_cents: Mapped[int]
    shipping_cents: Mapped[int] = mapped_column(default=0)
    tax_rate_bps: Mapped[int]
    tax_cents: Mapped[int]
    total_cents: Mapped[int]

    @property
    def net_cents(self) -> int:
        """What tax is charged on: the goods and the shipping."""
        return self.subtotal_cents + self.shipping_cents


class Invoice(IssuedDocument, db.Model):
    __tablename__ = "invoices"
    audit_type = "invoice"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    clinician_name: Mapped[str] = mapped_column(String(120), default="")
    due_date: Mapped[date] = mapped_column(Date, index=True)
    terms: Mapped[str] = mapped_column(String(200))
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    placed_by = relationship("User", foreign_keys=[placed_by_id])
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position")
    payments: Mapped[list[InvoicePayment]] = relationship(
        back_populates="invoice", order_by="InvoicePayment.received_on, InvoicePayment.id"
    )
    credit_notes: Mapped[list[CreditNote]] = relationship(back_populates="invoice", order_by="CreditNote.id")

    @property
    def described_as(self) -> str:
        return f"Invoice {self.number}"

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def credited_cents(self) -> int:
        return sum(c.total_cents for c in self.credit_notes)

    @property
    def outstanding_cents(self) -> int:
        """What the practice still owes on it: the total less credit notes and payments (a
        refund paid out counts as a negative payment)."""
        return self.total_cents - self.credited_cents - self.paid_cents

    def is_overdue(self, today: date) -> bool:
        return self.outstanding_cents > 0 and self.due_date < today


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int]
    sku: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    line_total_cents: Mapped[int]
    tax_rate_bps: Mapped[int]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class PaymentKind(LabelledEnum):
    TRANSFER = "transfer", "Bank transfer"
    CARD = "card", "Card (Stripe)"
    CHEQUE = "cheque", "Cheque"
    OTHER = "other", "Other"
    REFUND = "refund", "Refund paid out"


class InvoicePayment(db.Model):
    """Money received against an invoice (a negative amount: a refund paid out)."""

    __tablename__ = "invoice_payments"
    audit_type = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int]
    reference: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    recorded_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return PaymentKind(self.kind).label if self.kind in PaymentKind._value2member_map_ else self.kind


class CreditNote(IssuedDocument, db.Model):
    __tablename__ = "credit_notes"
    audit_type = "credit_note"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes")
    lines: Mapped[list[CreditNoteLine]] = relationship(back_populates="credit_note", order_by="CreditNoteLine.id")

    @property
    def described_as(self) -> str:
        return f"Credit note {self.number}"


class CreditNoteLine(db.Model):
    __tablename__ = "credit_note_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_notes.id"), index=True)
    # The invoice line credited (None for shipping or an amount credited as such).
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_lines.id"))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    line_total_cents: Mapped[int]

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")


class InvoiceReminder(db.Model):
    """A reminder sent about an overdue invoice, so each is sent once."""

    __tablename__ = "invoice_reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "days_overdue", name="uq_invoice_reminders_invoice_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    days_overdue: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


ISSUED = (Invoice, InvoiceLine, CreditNote, CreditNoteLine)


@event.listens_for(Session, "before_flush")
def _refuse_edits(session, _context, _instances) -> None:
    for row in (*session.dirty, *session.deleted):
        if isinstance(row, ISSUED) and (row in session.deleted or session.is_modified(row, include_collections=False)):
            raise DocumentIsImmutable(IMMUTABLE)
