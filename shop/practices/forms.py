"""Forms of a practice: its details, its delivery addresses, inviting a colleague and a member's
role; and the address fields every form shares (countries by name, postcodes, no PO boxes)."""

from __future__ import annotations

from functools import cache

from babel import Locale
from flask import current_app
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from shop.forms import ShopForm
from shop.practices.addresses import AddressDetails
from shop.practices.models import PracticeRole, looks_like_po_box

PHONE = Regexp(r"^\+?[0-9 ().\-]{7,25}$", message="Enter a phone number with digits, spaces, +, - or brackets.")
POSTCODE = Regexp(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,14}$", message="Enter a valid postal code.")


@cache
def country_choices() -> list[SelectChoice]:
    names = Locale.parse("en_US").territories
    codes = sorted((code for code in names if len(code) == 2 and code.isalpha() and code != "ZZ"), key=names.get)
    return [SelectChoice(code, names[code]) for code in codes]


def not_a_po_box(_form, field) -> None:
    if looks_like_po_box(field.data):
        raise ValidationError("Give a street address: we cannot deliver injectables to a PO box.")


class ChoosesCountry(ShopForm):
    """A form with a `country` choice of every country by name, the shop's own pre-selected."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        if not self.is_submitted():
            self.country.data = self.country.data or current_app.config["SHOP_COUNTRY"]


class AddressForm(ChoosesCountry):
    line1 = StringField(
        "Street address", validators=[DataRequired("Enter the street address."), Length(max=120), not_a_po_box]
    )
    line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=120), not_a_po_box])
    city = StringField("City", validators=[DataRequired("Enter the city."), Length(max=80)])
    region = StringField("State or region (optional)", validators=[Optional(), Length(max=80)])
    postcode = StringField("ZIP or postal code", validators=[DataRequired("Enter the postal code."), POSTCODE])
    country = SelectField("Country", validators=[DataRequired("Choose a country.")])
    make_default = BooleanField("Deliver here by default")

    def details(self) -> AddressDetails:
        return AddressDetails(
            line1=self.line1.data,
            line2=self.line2.data or "",
            city=self.city.data,
            region=self.region.data or "",
            postcode=self.postcode.data,
            country=self.country.data,
        )


class DetailsForm(ShopForm):
    name = StringField("Practice name", validators=[DataRequired("Enter the practice's name."), Length(min=2, max=160)])
    phone = StringField("Phone", validators=[DataRequired("Enter a phone number."), PHONE])


def role_field(label: str = "Role") -> SelectField:
    return SelectField(
        label,
        choices=[SelectChoice(r.value, r.label) for r in PracticeRole],
        default=PracticeRole.BUYER.value,
        validators=[DataRequired("Choose a role.")],
    )


class InviteForm(ShopForm):
    email = EmailField(
        "Colleague's email address",
        validators=[
            DataRequired("Enter your colleague's email address."),
            Length(max=254),
            Email("Enter a valid email address, like name@clinic.com.", check_deliverability=False),
        ],
    )
    role = role_field()


class RoleForm(ShopForm):
    role = role_field("New role")
