"""Records for an inspector: every supply (order, clinician and licence on record, parcel, lot,
packs, dates) for a practice, a product, a lot or a period, on screen and as CSV and PDF. The
recall desk's page, which the orders and customers desks may open."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import render_template, request
from sqlalchemy import select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from shop import clock
from shop.access import Desk, desk_pages, readable_by
from shop.backoffice import bp
from shop.catalogue.models import Product, Variant
from shop.core.formatting import local_datetime, long_date
from shop.core.pdf import letterhead_document, pdf_response
from shop.core.spreadsheet import csv_download
from shop.extensions import db
from shop.forms import ShopForm
from shop.lots.models import LOT_NUMBER_LENGTH, Lot
from shop.practices.models import Practice
from shop.practices.staff_panels import Panel, panel
from shop.shipping.records import Supply, SupplyFilter, supplies

desk_pages(__name__, Desk.RECALLS)

SHOWN = 200  # rows on the page; the files have them all
PDF_ROWS = 2000
CSV_HEADER = (
    "Shipped",
    "Practice",
    "Order",
    "Placed",
    "Clinician",
    "Profession",
    "Licence number",
    "Licence region",
    "Parcel",
    "Carrier",
    "Tracking",
    "SKU",
    "Product",
    "Lot",
    "Expires",
    "Packs",
)


FILTERS = ("practice_id", "product_id", "lot", "shipped_from", "shipped_to")


def a_plausible_date(_form, field) -> None:
    if field.data is not None and not 2000 <= field.data.year <= 2999:
        raise ValidationError("Enter a date between the years 2000 and 2999.")


class SupplyForm(ShopForm):
    class Meta:
        csrf = False

    practice_id = IntegerField("Practice number", validators=[Optional(), NumberRange(1, 2**31 - 1)])
    product_id = SelectField("Product", coerce=int, validators=[Optional()])
    lot = StringField("Lot number", validators=[Optional(), Length(max=LOT_NUMBER_LENGTH)])
    shipped_from = DateField("Shipped from", validators=[Optional(), a_plausible_date])
    shipped_to = DateField("Shipped up to and including", validators=[Optional(), a_plausible_date])

    def query(self) -> dict[str, str]:
        """The filters asked for, as the files' links carry them."""
        return {name: value for name in FILTERS if (value := (request.args.get(name) or "").strip())}

    def criteria(self) -> SupplyFilter | None:
        """What was asked for, or None when nothing was (or a lot that does not exist)."""
        if not any(
            (self.practice_id.data, self.product_id.data, self.lot.data, self.shipped_from.data, self.shipped_to.data)
        ):
            return None
        lot_ids: tuple[int, ...] = ()
        if self.lot.data:
            query = select(Lot.id).where(Lot.lot_number == self.lot.data.strip().upper())
            if self.product_id.data:
                query = query.where(
                    Lot.variant_id.in_(select(Variant.id).where(Variant.product_id == self.product_id.data))
                )
            lot_ids = tuple(db.session.scalars(query)) or (0,)
        return SupplyFilter(
            practice_id=self.practice_id.data,
            product_id=self.product_id.data or None,
            lot_ids=lot_ids,
            shipped_from=_start_of(self.shipped_from.data),
            shipped_before=_start_of(self.shipped_to.data + timedelta(days=1)) if self.shipped_to.data else None,
        )

    def described(self) -> str:
        parts = []
        if self.practice_id.data:
            practice = db.session.get(Practice, self.practice_id.data)
            parts.append(f"practice {practice.name if practice else self.practice_id.data}")
        if self.product_id.data:
            parts.append(dict(self.product_id.choices).get(self.product_id.data, "product"))
        if self.lot.data:
            parts.append(f"lot {self.lot.data.strip().upper()}")
        if self.shipped_from.data:
            parts.append(f"from {long_date(self.shipped_from.data)}")
        if self.shipped_to.data:
            parts.append(f"up to {long_date(self.shipped_to.data)}")
        return ", ".join(parts)


@panel(position=40)
def _supply_records(practice: Practice) -> Panel:
    """A link to everything supplied to the practice, lot by lot, from its page."""
    return Panel("Records of supply", "staff/practices/_supplies.html")


def _start_of(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=clock.shop_zone()) if day else None


def _asked() -> tuple[SupplyForm, SupplyFilter | None]:
    """The filter form as the query string fills it, and what it asks for (None: nothing, or
    something that does not parse, which the page shows next to its field)."""
    form = SupplyForm(request.args)
    form.product_id.choices = [(0, "Any product")] + [
        (pid, name) for pid, name in db.session.execute(select(Product.id, Product.name).order_by(Product.name))
    ]
    return form, (form.criteria() if form.validate() else None)


@bp.route("/supplies")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def supplies_page():
    form, criteria = _asked()
    rows = supplies(criteria, limit=SHOWN + 1) if criteria else []
    return render_template(
        "staff/shipping/supplies.html", form=form, rows=rows[:SHOWN], more=len(rows) > SHOWN, asked=criteria
    ), (422 if form.errors else 200)


@bp.route("/supplies.csv")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def supplies_csv():
    form, criteria = _asked()
    rows = supplies(criteria) if criteria else []
    return csv_download("supplies", CSV_HEADER, (_csv_row(s) for s in rows))


@bp.route("/supplies.pdf")
@readable_by(Desk.ORDERS, Desk.CUSTOMERS)
def supplies_pdf():
    form, criteria = _asked()
    rows = supplies(criteria, limit=PDF_ROWS + 1) if criteria else []
    return pdf_response(
        _pdf(form.described() if criteria else "nothing asked", rows), f"supplies-{clock.today().isoformat()}.pdf"
    )


def _csv_row(s: Supply) -> tuple:
    return (
        local_datetime(s.shipped_at),
        s.practice_name,
        s.order_number,
        local_datetime(s.placed_at),
        s.clinician_name,
        s.profession.replace("_", " "),
        s.licence_number,
        s.licence_region,
        s.parcel,
        s.carrier,
        s.tracking_number,
        s.sku,
        s.product_name,
        s.lot_number,
        s.expires_on.isoformat(),
        s.quantity,
    )


def _pdf(described: str, rows: list[Supply]) -> bytes:
    pdf = letterhead_document("Record of supply")
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 8, "Record of supply", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    pdf.multi_cell(0, 5, f"Supplies of {described}. Made {local_datetime(clock.now())}.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    table = [
        (
            local_datetime(s.shipped_at),
            f"{s.practice_name}\nOrder {s.order_number}, parcel {s.parcel}\n{s.clinician_name}, licence "
            f"{s.licence_number} ({s.licence_region})",
            s.sku,
            s.lot_number,
            s.expires_on.isoformat(),
            str(s.quantity),
        )
        for s in rows[:PDF_ROWS]
    ]
    pdf.lines_table(
        ("Shipped", "Supplied to", "SKU", "Lot", "Expires", "Packs"),
        table or [("", "No supply matches.", "", "", "", "")],
        ("LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"),
    )
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 9)
    total = sum(s.quantity for s in rows[:PDF_ROWS])
    note = f"{total} packs in {len(table)} supplies."
    if len(rows) > PDF_ROWS:
        note += f" Only the first {PDF_ROWS} are listed: the CSV has every one."
    pdf.multi_cell(0, 4.6, note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
