"""Invoices and credit notes as PDF documents on the supplier's letterhead (shop.core.pdf, as
quotes and packing slips): the seller's legal details beside the buyer's, the references, the
lines, the totals with the tax on each rate, and how to pay. Every figure comes from the issued
document itself, so a PDF made years later reads as the one sent; below them, notes the parts
above may add (the lots delivered, known only once the goods have left) appear when they exist."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from shop.core.formatting import long_date, money
from shop.core.pdf import LetterheadPDF, letterhead_document, pdf_response
from shop.core.pricing import percent
from shop.invoicing.models import CreditNote, Invoice, IssuedDocument

INVOICE_HEADINGS = ("SKU", "Description", "Qty", "Unit price", "Tax", "Total")

# What the parts above invoicing add to an invoice's PDF below its terms: (heading, text), or
# None. Shipping adds the lots delivered, which are known only once the goods have left.
INVOICE_NOTES: list[Callable[[Invoice], tuple[str, str] | None]] = []


def invoice_note(note: Callable[[Invoice], tuple[str, str] | None]):
    """Register a note for every invoice's PDF (see INVOICE_NOTES)."""
    INVOICE_NOTES.append(note)
    return note


CREDIT_HEADINGS = ("Description", "Qty", "Unit price", "Total")


def title(pdf: LetterheadPDF, text: str) -> None:
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def columns(pdf: LetterheadPDF, blocks: list[tuple[str, str]]) -> None:
    """Blocks of text side by side (heading, body), the page continuing below the longest."""
    top = bottom = pdf.get_y()
    width = pdf.epw / len(blocks)
    for index, (heading, body) in enumerate(blocks):
        pdf.set_xy(pdf.l_margin + index * width, top)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.cell(width - 4, 5.5, heading, new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(width - 4, 4.8, body, new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 3)


def seller_block(seller: dict) -> str:
    lines = [seller.get("legal_name", ""), seller.get("address", "")]
    if seller.get("vat_number"):
        lines.append(f"VAT number {seller['vat_number']}")
    if seller.get("company_number"):
        lines.append(seller["company_number"])
    return "\n".join(line for line in lines if line)


def facts(pdf: LetterheadPDF, pairs: list[tuple[str, str]]) -> None:
    pdf.set_font("DejaVu", "", 9.5)
    for label, value in pairs:
        if value:
            pdf.set_font("DejaVu", "B", 9.5)
            pdf.cell(38, 5.2, label)
            pdf.set_font("DejaVu", "", 9.5)
            pdf.cell(0, 5.2, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def totals(pdf: LetterheadPDF, document: IssuedDocument, total_label: str) -> None:
    """Subtotal, shipping, the tax charged on each rate (one rate per document), the total."""
    currency = document.currency
    tax_label = current_app.config["TAX_LABEL"]
    rows = [("Subtotal", money(document.subtotal_cents, currency), False)]
    if document.shipping_cents:
        rows.append(("Shipping", money(document.shipping_cents, currency), False))
    rows.append(
        (
            f"{tax_label} {percent(document.tax_rate_bps)}% on {money(document.net_cents, currency)}",
            money(document.tax_cents, currency),
            False,
        )
    )
    rows.append((total_label, money(document.total_cents, currency), True))
    pdf.ln(2)
    for label, value, bold in rows:
        pdf.set_font("DejaVu", "B" if bold else "", 11 if bold else 9.5)
        pdf.cell(pdf.epw - 45, 6, label, align="R")
        pdf.cell(0, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")


def paragraph(pdf: LetterheadPDF, heading: str, body: str) -> None:
    if not body:
        return
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 9.5)
    pdf.cell(0, 5.5, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 4.6, body, new_x="LMARGIN", new_y="NEXT")


def how_to_pay(seller: dict, reference: str) -> str:
    return (
        f"By bank transfer to {seller.get('legal_name', '')}, {seller.get('bank_name', '')}, "
        f"IBAN {seller.get('iban', '')}, BIC {seller.get('bic', '')}, quoting {reference}. "
        f"Questions: {seller.get('email', '')}, {seller.get('phone', '')}."
    )


def invoice_pdf(invoice: Invoice) -> bytes:
    currency = invoice.currency
    pdf = letterhead_document(invoice.number)
    title(pdf, f"Invoice {invoice.number}")
    columns(
        pdf,
        [
            ("Seller", seller_block(invoice.seller)),
            (
                "Bill to",
                "\n".join(
                    filter(
                        None,
                        [
                            invoice.buyer_name,
                            invoice.buyer_address,
                            invoice.clinician_name and f"Attn: {invoice.clinician_name}",
                        ],
                    )
                ),
            ),
        ],
    )
    facts(
        pdf,
        [
            ("Invoice date", long_date(invoice.issue_date)),
            ("Due date", long_date(invoice.due_date)),
            ("Order", invoice.order_number),
            ("PO number", invoice.po_number),
        ],
    )
    rows = [
        (
            line.sku,
            line.description,
            str(line.quantity),
            money(line.unit_price_cents, currency),
            f"{percent(line.tax_rate_bps)}%",
            money(line.line_total_cents, currency),
        )
        for line in invoice.lines
    ]
    pdf.lines_table(INVOICE_HEADINGS, rows, ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    totals(pdf, invoice, "Total due")
    paragraph(pdf, "Terms", invoice.terms)
    if not invoice.terms.startswith("Paid"):
        paragraph(pdf, "How to pay", how_to_pay(invoice.seller, invoice.number))
    for note in INVOICE_NOTES:
        written = note(invoice)
        if written:
            paragraph(pdf, *written)
    return bytes(pdf.output())


def credit_note_pdf(note: CreditNote) -> bytes:
    currency = note.currency
    invoice = note.invoice
    pdf = letterhead_document(note.number)
    title(pdf, f"Credit note {note.number}")
    columns(
        pdf,
        [
            ("Seller", seller_block(note.seller)),
            ("Credit to", "\n".join(filter(None, [note.buyer_name, note.buyer_address]))),
        ],
    )
    facts(
        pdf,
        [
            ("Date", long_date(note.issue_date)),
            ("Credits invoice", f"{invoice.number} of {long_date(invoice.issue_date)}"),
            ("Order", note.order_number),
            ("PO number", note.po_number),
        ],
    )
    rows = [
        (
            line.description,
            str(line.quantity),
            money(line.unit_price_cents, currency),
            money(line.line_total_cents, currency),
        )
        for line in note.lines
    ]
    pdf.lines_table(CREDIT_HEADINGS, rows, ("LEFT", "RIGHT", "RIGHT", "RIGHT"), wrap=0)
    totals(pdf, note, "Total credited")
    paragraph(pdf, "Reason", note.reason)
    paragraph(
        pdf,
        "What happens now",
        f"This amount is taken off what {note.buyer_name} owes on invoice {invoice.number}; where that invoice was "
        "already paid, it is refunded or set against the next invoice.",
    )
    return bytes(pdf.output())


def invoice_download(invoice: Invoice):
    return pdf_response(invoice_pdf(invoice), f"{invoice.number}.pdf")


def credit_note_download(note: CreditNote):
    return pdf_response(credit_note_pdf(note), f"{note.number}.pdf")
