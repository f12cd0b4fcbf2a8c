"""The recall's report, for the file and for the authority: what was recalled, every supply of
the recalled lots, and per practice when it was told, to whom, and who acknowledged when. As a
PDF on the letterhead and as CSV."""

from __future__ import annotations

from shop import clock
from shop.core.formatting import local_datetime, long_date
from shop.core.pdf import letterhead_document, pdf_response
from shop.core.spreadsheet import csv_download
from shop.recalls.models import Recall, RecallNotice
from shop.shipping.records import Supply, SupplyFilter, supplies

CSV_HEADER = (
    "Recall",
    "Practice",
    "Order",
    "Clinician",
    "Licence",
    "Parcel",
    "Shipped",
    "SKU",
    "Product",
    "Lot",
    "Expires",
    "Packs",
    "First notified",
    "Last notified",
    "Times notified",
    "Notified to",
    "Acknowledged",
    "Acknowledged by",
)
PDF_HEADINGS = ("Practice", "Packs", "First notified", "Times", "Acknowledged")


def _when(moment) -> str:
    return local_datetime(moment) if moment else ""


def recall_supplies(recall: Recall) -> list[Supply]:
    return supplies(SupplyFilter(lot_ids=tuple(lot.id for lot in recall.lots)))


def report_csv(recall: Recall):
    notices = {notice.practice_id: notice for notice in recall.notices}
    rows = []
    for s in recall_supplies(recall):
        notice = notices.get(s.practice_id) or RecallNotice()
        rows.append(
            (
                recall.number,
                s.practice_name,
                s.order_number,
                s.clinician_name,
                f"{s.licence_number} ({s.licence_region})",
                s.parcel,
                _when(s.shipped_at),
                s.sku,
                s.product_name,
                s.lot_number,
                s.expires_on.isoformat(),
                s.quantity,
                _when(notice.first_notified_at),
                _when(notice.last_notified_at),
                notice.times_notified or 0,
                notice.notified_to or "",
                _when(notice.acknowledged_at),
                notice.acknowledged_by.full_name if notice.acknowledged_by else "",
            )
        )
    return csv_download(f"{recall.number}-report", CSV_HEADER, rows)


def report_pdf(recall: Recall) -> bytes:
    pdf = letterhead_document(f"Recall report {recall.number}")
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 9, f"Recall report {recall.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    facts = [
        f"Product: {recall.product.name}",
        f"Lots: {recall.lot_numbers}",
        f"Manufacturer's reference: {recall.manufacturer_reference}",
        f"Reason: {recall.reason}",
        f"Opened {_when(recall.opened_at)} by {recall.opened_by.full_name}",
        f"Status: {recall.status.label}" + (f", closed {_when(recall.closed_at)}" if recall.closed_at else ""),
        f"Report made {_when(clock.now())}",
    ]
    if recall.closing_note:
        facts.append(f"Closing note: {recall.closing_note}")
    for fact in facts:
        pdf.multi_cell(0, 5.5, fact, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    packs: dict[int, int] = {}
    for s in recall_supplies(recall):
        packs[s.practice_id] = packs.get(s.practice_id, 0) + s.quantity
    rows = [
        (
            notice.practice.name,
            str(packs.get(notice.practice_id, 0)),
            _when(notice.first_notified_at) or "not yet",
            str(notice.times_notified),
            f"{_when(notice.acknowledged_at)} by {notice.acknowledged_by.full_name}"
            if notice.acknowledged_at
            else "not yet",
        )
        for notice in recall.notices
    ]
    pdf.lines_table(
        PDF_HEADINGS,
        rows or [("No practice received these lots.", "", "", "", "")],
        ("LEFT", "RIGHT", "LEFT", "RIGHT", "LEFT"),
    )
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(
        0,
        4.6,
        "Every supply of the recalled lots, with order, clinician, licence on record and parcel, is in the CSV "
        f"report of this recall. Lots expire: {', '.join(f'{lot.lot_number} {long_date(lot.expires_on)}' for lot in recall.lots)}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def report_pdf_download(recall: Recall):
    return pdf_response(report_pdf(recall), f"{recall.number}-report.pdf")
