"""Forms of ordering: checkout (of a cart, or of an accepted quote), and the orders desk's steps."""

from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shop.accounts.models import User
from shop.core.formatting import country_name
from shop.core.limits import PO_NUMBER_LENGTH
from shop.forms import ShopForm, required_text
from shop.ordering import checkout, credit
from shop.ordering.models import PaymentMethod


class CheckoutForm(ShopForm):
    """Delivery, payment and references: the checkout of a cart, and of an accepted quote."""

    address_id = RadioField("Deliver to", coerce=int, validators=[InputRequired("Choose a delivery address.")])
    payment_method = RadioField("Payment", validators=[InputRequired("Choose how to pay.")])
    po_number = StringField(
        "Purchase-order number (optional)",
        validators=[Optional(), Length(max=PO_NUMBER_LENGTH, message=f"Use at most {PO_NUMBER_LENGTH} characters.")],
    )
    note = TextAreaField(
        "Note for the orders desk (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2,000 characters.")],
    )
    expected_total = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])

    def offer(self, user: User, total_cents: int) -> None:
        """The choices open to `user`, pre-selecting the default address and a lone way to pay."""
        addresses = checkout.delivery_addresses(user)
        methods = credit.payment_methods(user)
        self.address_id.choices = [
            SelectChoice(a.id, ", ".join([*a.lines(), country_name(a.country)])) for a in addresses
        ]
        self.payment_method.choices = [SelectChoice(m.value, m.label) for m in methods]
        if not self.is_submitted():
            default = user.practice.default_address if user.practice else None
            default = default if default in addresses else (addresses[0] if addresses else None)
            self.address_id.data = default.id if default else None
            self.payment_method.data = methods[0].value if len(methods) == 1 else None
            self.expected_total.data = total_cents

    def checkout_request(self) -> checkout.CheckoutRequest:
        return checkout.CheckoutRequest(
            address_id=self.address_id.data,
            payment_method=PaymentMethod(self.payment_method.data),
            expected_total_cents=self.expected_total.data,
            po_number=self.po_number.data or "",
            note=self.note.data or "",
        )


# --- the orders desk ---------------------------------------------------------------------


class ShipForm(ShopForm):
    carrier = StringField("Carrier", validators=[DataRequired("Enter the carrier."), Length(max=60)])
    tracking_number = StringField(
        "Tracking number", validators=[DataRequired("Enter the tracking number."), Length(max=80)]
    )


class ReasonForm(ShopForm):
    reason = required_text("Reason (the clinician sees it)", "Give the reason; the clinician will see it.")


class NoteForm(ShopForm):
    note = required_text("Note", "Write a short note for the record.")
