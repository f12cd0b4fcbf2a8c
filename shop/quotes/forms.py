from wtforms import DateField, FieldList, FormField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from shop.forms import ShopForm
from shop.orders.forms import CheckoutForm

REQUEST_ROWS = 8
OTHER_ROWS = 3


class RequestRowForm(ShopForm):
    class Meta:
        csrf = False

    sku = StringField("SKU", validators=[Optional(), Length(max=40)])
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(1, 999, "Between 1 and 999.")])


class OtherRowForm(ShopForm):
    class Meta:
        csrf = False

    # Not "description": FormField has an attribute of that name, which would hide the field.
    item = StringField("Item not in the catalogue", validators=[Optional(), Length(max=300)])
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(1, 999, "Between 1 and 999.")])


class QuoteRequestForm(ShopForm):
    products = FieldList(FormField(RequestRowForm), min_entries=REQUEST_ROWS, max_entries=100)
    others = FieldList(FormField(OtherRowForm), min_entries=OTHER_ROWS, max_entries=20)
    target_date = DateField("Needed by (optional)", format="%Y-%m-%d", validators=[Optional()])
    message = TextAreaField("Message for the quotes desk (optional)", validators=[Optional(), Length(max=4000)])


class CommentForm(ShopForm):
    body = TextAreaField("Your message", validators=[DataRequired("Write your message first."), Length(max=4000)])


class DeclineForm(ShopForm):
    reason = TextAreaField("Why are you declining?", validators=[DataRequired("Tell us why."), Length(max=2000)])


class AcceptForm(CheckoutForm):
    """Checkout for an accepted quote: the version accepted, then delivery and payment."""

    version = IntegerField(widget=HiddenField.widget, validators=[DataRequired()])
