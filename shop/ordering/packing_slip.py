"""An order's packing slip: what goes in the box and where it goes (lines, quantities, ship-to,
PO and order numbers, the practice and clinician), on the supplier's letterhead
(shop.core.pdf), and never a price."""

from __future__ import annotations

from shop import clock
from shop.core.formatting import country_name, long_date
from shop.core.pdf import letterhead_document, pdf_response
from shop.ordering.models import Order

HEADINGS = ("SKU", "Product", "Variant / pack", "Qty")


def _rows(order: Order) -> list[tuple[str, ...]]:
    return [
        (
            line.sku,
            line.product_name,
            " · ".join(part for part in (line.variant_label, line.pack_size) if part),
            str(line.quantity),
        )
        for line in order.lines
    ]


def ship_to_lines(order: Order) -> list[str]:
    """The address as the label reads: the copied lines (the practice's name first), the country."""
    lines = [line.strip() for line in order.ship_to.splitlines() if line.strip()]
    return [*lines, country_name(order.ship_to_country)]


def packing_slip_pdf(order: Order) -> bytes:
    pdf = letterhead_document(f"Packing slip {order.number}")
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 9, f"Packing slip {order.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    placed = long_date(clock.local(order.placed_at).date())
    pdf.cell(0, 6, f"Order {order.number} · Placed {placed}", new_x="LMARGIN", new_y="NEXT")
    if order.po_number:
        pdf.cell(0, 6, f"PO number: {order.po_number}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    top = bottom = pdf.get_y()
    half = pdf.epw / 2
    for x, heading, body in (
        (pdf.l_margin, "Ship to", "\n".join(ship_to_lines(order))),
        (
            pdf.l_margin + half,
            "Practice",
            f"{order.practice_name}\nPhone {order.practice_phone}\nClinician: {order.clinician_name}",
        ),
    ):
        pdf.set_xy(x, top)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(half - 4, 6, heading, new_x="LEFT", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(half - 4, 5.5, body, new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_xy(pdf.l_margin, bottom + 4)
    rows = _rows(order)
    pdf.lines_table(HEADINGS, rows, ("LEFT", "LEFT", "LEFT", "RIGHT"))
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, f"{order.item_count} packs on {len(rows)} lines", new_x="LMARGIN", new_y="NEXT")
    if order.note:
        pdf.ln(2)
        pdf.cell(0, 6, "Note", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.multi_cell(0, 5, order.note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def packing_slip_download(order: Order):
    """The slip as a download response, as the staff order page links to it."""
    return pdf_response(packing_slip_pdf(order), f"{order.number}-packing-slip.pdf")
