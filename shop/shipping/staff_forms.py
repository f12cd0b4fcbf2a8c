"""The packing form: the parcel's carrier and tracking, and for each line still to ship a few
rows of lot and packs (pre-filled first expiry first). The rows are read from the posted form
by name, as the page draws them, because their number depends on the order."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from shop.core.limits import MAX_LINE_QUANTITY
from shop.forms import ShopForm
from shop.ordering.models import Order
from shop.shipping.packing import Pick

ROWS_PER_LINE = 3


class ParcelForm(ShopForm):
    carrier = StringField("Carrier", validators=[DataRequired("Enter the carrier."), Length(max=60)])
    tracking_number = StringField(
        "Tracking number", validators=[DataRequired("Enter the tracking number."), Length(max=80)]
    )


def row_name(line_id: int, row: int, part: str) -> str:
    return f"pick-{line_id}-{row}-{part}"


def posted_picks(form_data, order: Order) -> tuple[list[Pick], str | None]:
    """The rows typed for each line still to ship, and what is wrong with them if anything (packs
    that are not a whole number in range). A row without packs is left out."""
    picks = []
    for line in order.lines:
        if not line.to_ship:
            continue
        for row in range(ROWS_PER_LINE):
            raw = (form_data.get(row_name(line.id, row, "qty")) or "").strip()
            lot = form_data.get(row_name(line.id, row, "lot")) or ""
            if not raw or raw == "0":
                continue
            if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_LINE_QUANTITY:
                return [], f"{line.sku}: enter the packs as a whole number from 1 to {line.to_ship}."
            picks.append(Pick(order_line_id=line.id, lot=lot, quantity=int(raw)))
    return picks, None
