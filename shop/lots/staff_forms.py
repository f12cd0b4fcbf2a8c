"""The catalogue desk's forms about lots: a change to a variant's stock, said by lot (typed, or
scanned into one field), and holding or releasing a lot."""

from __future__ import annotations

from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from shop.catalogue.staff_forms import StockForm
from shop.catalogue.stock import Movement
from shop.forms import ShopForm, required_text
from shop.lots.models import LOT_NUMBER_LENGTH, LotStatus
from shop.lots.receiving import LotEntry


class LotStockForm(StockForm):
    """A change to a variant's stock; goods received name their lot, a write-off or a return may."""

    scan = StringField("Scan the pack (GS1 code)", validators=[Optional()])
    lot_number = StringField("Lot number", validators=[Optional(), Length(max=LOT_NUMBER_LENGTH)])
    expires_on = DateField(
        "Expiry date", format="%Y-%m-%d", validators=[Optional()], render_kw={"placeholder": "YYYY-MM-DD"}
    )

    def names_a_lot(self) -> bool:
        return bool(self.scanned() or (self.lot_number.data or "").strip())

    def scanned(self) -> str:
        """What the scanner typed, group separators (ASCII 29) included: the field's own cleaning
        would remove them, and they say where a lot number ends."""
        return self.scan.raw_data[0].strip() if self.scan.raw_data else ""

    def lot_entry(self) -> LotEntry:
        return LotEntry(lot_number=self.lot_number.data or "", expires_on=self.expires_on.data, scan=self.scanned())

    @property
    def by_lot(self) -> bool:
        return Movement(self.kind.data) in (Movement.RECEIVED, Movement.LOT_RECORDED) or self.names_a_lot()


class LotHoldForm(ShopForm):
    reason = required_text("Why", "Say why, for the record.", max_length=1000)


class LotSearchForm(ShopForm):
    class Meta:
        csrf = False

    q = StringField("Lot number", validators=[Optional(), Length(max=LOT_NUMBER_LENGTH)])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")] + [SelectChoice(s.value, s.label) for s in LotStatus],
        validators=[Optional()],
    )
