"""Forms of the cart: adding a product, changing a line, accepting new prices, quick order."""

import re

from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shop.cart.quick_order import MAX_QUICK_ORDER_LINES, QuickLine, parse_quick_order
from shop.core.limits import MAX_LINE_QUANTITY, QUANTITY_RANGE, SKU_LENGTH
from shop.forms import ShopForm, line_quantity

QUANTITY_MESSAGE = f"Enter a whole number of packs {QUANTITY_RANGE}."
MAX_CSV_BYTES = 512 * 1024
SHOWN_PRICE = re.compile(r"(\d{1,10}):(\d{1,12})")


class AddToCartForm(ShopForm):
    sku = StringField("SKU", validators=[DataRequired("Choose a product option."), Length(max=SKU_LENGTH)])
    quantity = IntegerField(
        "Quantity", default=1, validators=[DataRequired(QUANTITY_MESSAGE), line_quantity(QUANTITY_MESSAGE)]
    )
    next = HiddenField()


class UpdateLineForm(ShopForm):
    quantity = IntegerField(
        "Quantity",
        validators=[
            InputRequired("Enter a quantity, or 0 to remove the line."),
            line_quantity(f"Enter a whole number between 0 and {MAX_LINE_QUANTITY}.", allow_zero=True),
        ],
    )


class AcceptPricesForm(ShopForm):
    # "line id:unit price in cents" for every line, as the cart page showed them.
    shown = HiddenField(validators=[Optional(), Length(max=20_000)])

    def shown_prices(self) -> dict[int, int] | None:
        """The prices the page showed, or None when the form did not say (accept what is current)."""
        if not self.shown.data:
            return None
        return {int(line_id): int(cents) for line_id, cents in SHOWN_PRICE.findall(self.shown.data)}


class QuickOrderForm(ShopForm):
    lines = TextAreaField(
        "SKU and quantity, one per line",
        validators=[Optional(), Length(max=20_000, message="Paste at most 20,000 characters; split a longer list.")],
        render_kw={"rows": 5, "spellcheck": "false", "autocomplete": "off"},
    )
    csv_file = FileField("…or upload a CSV file (sku,quantity)")

    parsed: list[QuickLine]

    def validate(self, extra_validators=None) -> bool:
        """Valid when exactly one of the text and the file gives some lines, at most
        MAX_QUICK_ORDER_LINES of them; `parsed` then holds them."""
        if not super().validate(extra_validators):
            return False
        upload = self.csv_file.data
        has_file = bool(upload and upload.filename)
        text = self.lines.data or ""
        if has_file and text:
            self.lines.errors.append("Paste lines or choose a file, not both.")
            return False
        if has_file:
            text = self._read_csv(upload)
            if text is None:
                return False
        if not text.strip():
            field = self.csv_file if has_file else self.lines
            field.errors.append(
                "The file has no lines." if has_file else "Paste some lines of SKU and quantity, or choose a CSV file."
            )
            return False
        self.parsed = parse_quick_order(text)
        if not self.parsed:
            (self.csv_file if has_file else self.lines).errors.append("There is no line of SKU and quantity in it.")
            return False
        if len(self.parsed) > MAX_QUICK_ORDER_LINES:
            (self.csv_file if has_file else self.lines).errors.append(
                f"That is {len(self.parsed)} lines; a quick order takes at most {MAX_QUICK_ORDER_LINES}. "
                "Split it into smaller parts."
            )
            return False
        return True

    def _read_csv(self, upload) -> str | None:
        data = upload.stream.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            self.csv_file.errors = ["The file is larger than 512 KB. Split it, or paste the lines instead."]
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.csv_file.errors = ["The file is not a text (CSV) file. Save it as CSV UTF-8 and try again."]
            return None
