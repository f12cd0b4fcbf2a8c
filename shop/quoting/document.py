"""A quote as a document: `quote_document` gathers what the quote page and the PDF show, and
`quote_pdf` lays it out on the supplier's letterhead (shop.core.pdf)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from shop import clock
from shop.core.formatting import long_date, money
from shop.core.letterhead import letterhead_lines, shop_details
from shop.core.pdf import LetterheadPDF, pdf_response
from shop.core.pricing import percent
from shop.quoting.models import Quote, QuoteVersion


@dataclass(frozen=True)
class DocumentLine:
    sku: str
    name: str
    description: str
    quantity: int
    list_price: str
    discount: str
    unit_price: str
    total: str


@dataclass(frozen=True)
class QuoteDocument:
    letterhead: dict[str, str]
    contacts: list[str]
    number: str
    version: str
    issued: str
    valid_until: str
    practice: str
    contact: str
    contact_email: str
    licence: str
    lines: list[DocumentLine]
    subtotal: str
    shipping: str
    tax_label: str
    tax: str
    total: str
    terms: str
    note: str


def quote_document(quote: Quote, version: QuoteVersion) -> QuoteDocument:
    """Everything a quote version says, formatted once for the page and the PDF alike."""
    currency = version.currency
    issued: date = clock.local(version.sent_at).date() if version.sent_at else clock.today()
    letterhead = shop_details()
    return QuoteDocument(
        letterhead=letterhead,
        contacts=letterhead_lines(letterhead),
        number=quote.number,
        version=f"v{version.number}",
        issued=long_date(issued),
        valid_until=long_date(version.valid_until),
        practice=quote.practice.name,
        contact=quote.contact.full_name,
        contact_email=quote.contact.email,
        licence=f"{quote.licence_number} ({quote.licence_region})" if quote.licence_number else "",
        lines=[
            DocumentLine(
                sku=line.sku or "—",
                name=line.product_name,
                description=line.description,
                quantity=line.quantity,
                list_price=money(line.list_price_cents, currency),
                discount=f"{line.discount_percent}%" if line.discount_bps else "",
                unit_price=money(line.unit_price_cents, currency),
                total=money(line.line_total_cents, currency),
            )
            for line in version.lines
        ],
        subtotal=money(version.subtotal_cents, currency),
        shipping=money(version.shipping_cents, currency),
        tax_label=f"{current_app.config['TAX_LABEL']} ({percent(version.tax_rate_bps)}%)",
        tax=money(version.tax_cents, currency),
        total=money(version.total_cents, currency),
        terms=version.terms,
        note=version.note,
    )


HEADINGS = ("SKU", "Product", "Qty", "List price", "Discount", "Unit price", "Total")


def quote_pdf(quote: Quote, version: QuoteVersion) -> bytes:
    doc = quote_document(quote, version)
    pdf = LetterheadPDF(doc.letterhead, doc.contacts, f"{doc.number} {doc.version}")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 9, f"Quote {doc.number} ({doc.version})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, f"Issued {doc.issued} · Valid until {doc.valid_until} (end of day)", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(
        0,
        5.5,
        f"For: {doc.practice}\nAttn: {doc.contact} <{doc.contact_email}>\nLicence: {doc.licence}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    rows = [
        (
            line.sku,
            f"{line.name}\n{line.description}" if line.description and line.description != line.name else line.name,
            str(line.quantity),
            line.list_price,
            line.discount,
            line.unit_price,
            line.total,
        )
        for line in doc.lines
    ]
    pdf.lines_table(HEADINGS, rows, ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    for label, value, bold in (
        ("Subtotal", doc.subtotal, False),
        ("Shipping", doc.shipping, False),
        (doc.tax_label, doc.tax, False),
        ("Total", doc.total, True),
    ):
        pdf.set_font("DejaVu", "B" if bold else "", 11 if bold else 10)
        pdf.cell(pdf.epw - 50, 6, label, align="R")
        pdf.cell(0, 6, f" {value}", align="R", new_x="LMARGIN", new_y="NEXT")
    # (heading, text, space above, font size, line height)
    for heading, body, space, size, height in (("Note", doc.note, 4, 9.5, 5), ("Terms", doc.terms, 3, 9, 4.8)):
        if body:
            pdf.ln(space)
            pdf.set_font("DejaVu", "B", 10)
            pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", size)
            pdf.multi_cell(0, height, body, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0,
        4.8,
        f"To accept, open {doc.letterhead['base_url']}/quotes/{doc.number} and choose Accept before the end of "
        f"{doc.valid_until}. Questions: {doc.letterhead['quotes_email']}, {doc.letterhead['orders_phone']}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def pdf_file_name(quote: Quote, version: QuoteVersion) -> str:
    return f"{quote.number}-v{version.number}.pdf"


def pdf_download(quote: Quote, version: QuoteVersion):
    """The PDF of a version as a download response, as the page links to it."""
    return pdf_response(quote_pdf(quote, version), pdf_file_name(quote, version))
