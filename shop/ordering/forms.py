"""Forms of ordering: checkout (of a cart, or of an accepted quote), the orders desk's steps and
the orders it keys in."""

from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shop.accounts.models import User
from shop.core.formatting import country_name
from shop.core.limits import PO_NUMBER_LENGTH
from shop.forms import ShopForm, required_text
from shop.ordering import checkout, credit
from shop.ordering.desk_orders import DESK_CHANNELS
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


class ReasonForm(ShopForm):
    reason = required_text("Reason (the clinician sees it)", "Give the reason; the clinician will see it.")


class NoteForm(ShopForm):
    note = required_text("Note", "Write a short note for the record.")


class DeskOrderForm(ShopForm):
    """An order the orders desk keys in (shop.ordering.desk_orders)."""

    practice_id = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    clinician_id = RadioField(
        "Ordering clinician (their licence goes on the order)",
        coerce=int,
        validators=[InputRequired("Choose the clinician who is ordering.")],
    )
    lines = TextAreaField(
        "Lines: a SKU or words of the product's name, then the packs, one per line",
        validators=[Optional(), Length(max=10_000, message="Use at most 10,000 characters.")],
    )
    address_id = RadioField("Deliver to", coerce=int, validators=[Optional()])
    channel = SelectField(
        "Came in by",
        choices=[SelectChoice(c.value, c.label) for c in DESK_CHANNELS],
        validators=[DataRequired("Say how the order came in.")],
    )
    po_number = StringField(
        "Their purchase-order number (optional)",
        validators=[Optional(), Length(max=PO_NUMBER_LENGTH, message=f"Use at most {PO_NUMBER_LENGTH} characters.")],
    )
    note = TextAreaField(
        "Note for the order (optional)",
        validators=[Optional(), Length(max=2000, message="Use at most 2,000 characters.")],
    )
    payment_method = RadioField("Payment", validators=[Optional()])
    expected_total = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    # "1" when the lines are those of the clinician's cart (ordered from the cart, which empties it).
    from_cart = HiddenField(default="")

    @property
    def ordering_cart(self) -> bool:
        return self.from_cart.data == "1"

    def offer(self, practice, clinicians: list[User], payer: User | None) -> None:
        """The choices for this practice: its clinicians who may order, its delivery addresses,
        and the ways it may pay (card means a payment link emailed to the clinician)."""
        self.clinician_id.choices = [
            SelectChoice(
                c.id, f"{c.full_name} · {c.application.profession.label}, licence {c.application.licence_number}"
            )
            for c in clinicians
        ]
        addresses = [a for a in practice.addresses if not a.is_po_box]
        self.address_id.choices = [
            SelectChoice(a.id, ", ".join([*a.lines(), country_name(a.country)])) for a in addresses
        ]
        methods = credit.payment_methods(payer) if payer is not None else []
        labels = {
            PaymentMethod.CARD: "Card: email the clinician a payment link",
            PaymentMethod.ACCOUNT: "On account (invoice)",
        }
        self.payment_method.choices = [SelectChoice(m.value, labels[m]) for m in methods]
        if not self.is_submitted():
            self.practice_id.data = practice.id
            default = practice.default_address
            self.address_id.data = default.id if default in addresses else (addresses[0].id if addresses else None)
            self.clinician_id.data = clinicians[0].id if len(clinicians) == 1 else None
            self.payment_method.data = methods[0].value if len(methods) == 1 else None
