"""Forms of the clinician's side of quotes: asking for one, talking about it, declining, and
accepting it (checkout at the quoted prices)."""

from wtforms import DateField, FieldList, FormField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from shop.core.limits import ITEM_NAME_LENGTH, MAX_QUOTE_LINES, SKU_LENGTH
from shop.forms import ShopForm, line_quantity, parsed, required_text
from shop.ordering.forms import CheckoutForm
from shop.quoting.quotes import RequestedItem

REQUEST_ROWS = 8
OTHER_ROWS = 3


class RequestRowForm(ShopForm):
    class Meta:
        csrf = False

    sku = StringField("SKU", validators=[Optional(), Length(max=SKU_LENGTH)])
    quantity = IntegerField(
        "Quantity",
        validators=[Optional(), parsed, line_quantity()],
    )


class OtherRowForm(ShopForm):
    class Meta:
        csrf = False

    # Not "description": FormField has an attribute of that name, which would hide the field.
    item = StringField(
        "Item not in the catalogue",
        validators=[Optional(), Length(max=ITEM_NAME_LENGTH)],
    )
    quantity = IntegerField(
        "Quantity",
        validators=[Optional(), parsed, line_quantity()],
    )


class QuoteRequestForm(ShopForm):
    products = FieldList(FormField(RequestRowForm), min_entries=REQUEST_ROWS, max_entries=MAX_QUOTE_LINES)
    others = FieldList(FormField(OtherRowForm), min_entries=OTHER_ROWS, max_entries=20)
    target_date = DateField("Needed by (optional)", format="%Y-%m-%d", validators=[Optional()])
    message = TextAreaField("Message for the quotes desk (optional)", validators=[Optional(), Length(max=4000)])

    def fill_from(self, cart_lines) -> None:
        """'Ask for a quote instead': the cart's lines as the first product rows."""
        for index, line in enumerate(cart_lines):
            if index < len(self.products):
                self.products[index].sku.data = line.variant.sku
                self.products[index].quantity.data = line.quantity
            else:
                self.products.append_entry({"sku": line.variant.sku, "quantity": line.quantity})

    def fill_item(self, typed: str) -> None:
        """ "Can't find it? Ask the quotes desk": what was searched for as the first item not in
        the catalogue."""
        self.others[0].item.data = typed[:ITEM_NAME_LENGTH]
        self.others[0].quantity.data = 1

    def requested_items(self) -> list[RequestedItem]:
        return [
            RequestedItem(quantity=row.quantity.data or 1, sku=row.sku.data or "")
            for row in self.products
            if (row.sku.data or "").strip()
        ] + [
            RequestedItem(quantity=row.quantity.data or 1, description=row.item.data or "")
            for row in self.others
            if (row.item.data or "").strip()
        ]

    @staticmethod
    def row_error(rows: FieldList, index: int, name: str, message: str) -> None:
        """Show `message` next to field `name` of row `index` (after validation)."""
        field = rows[index][name]
        field.errors = [*field.errors, message]
        rows.errors = [entry.errors for entry in rows.entries]


class CommentForm(ShopForm):
    body = required_text("Your message", "Write your message first.", max_length=4000)


class DeclineForm(ShopForm):
    reason = required_text("Why are you declining?", "Tell us why.")


class AcceptForm(CheckoutForm):
    """Checkout for an accepted quote: the version accepted, then delivery and payment."""

    version = IntegerField(widget=HiddenField.widget, validators=[DataRequired()])
