from wtforms import HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from shop.forms import ShopForm


class CheckoutForm(ShopForm):
    address_id = RadioField("Deliver to", coerce=int, validators=[InputRequired("Choose a delivery address.")])
    payment_method = RadioField("Payment", validators=[InputRequired("Choose how to pay.")])
    po_number = StringField(
        "Purchase-order number (optional)",
        validators=[Optional(), Length(max=40, message="Use at most 40 characters.")],
    )
    note = TextAreaField(
        "Note for the orders desk (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2,000 characters.")],
    )
    expected_total = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
