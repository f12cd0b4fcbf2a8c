from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from shop.accounts.forms import POSTCODE, country_choices
from shop.accounts.models import looks_like_po_box
from shop.forms import ShopForm


class DocumentForm(ShopForm):
    licence_document = FileField("Scan of your licence", validators=[FileRequired("Attach a scan of your licence.")])
    licence_expiry = DateField(
        "Licence expiry date", format="%Y-%m-%d", validators=[DataRequired("Enter the expiry date as YYYY-MM-DD.")]
    )
    message = TextAreaField("Message for the verification desk (optional)", validators=[Optional(), Length(max=2000)])


class AddressForm(ShopForm):
    line1 = StringField("Street address", validators=[DataRequired("Enter the street address."), Length(max=120)])
    line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=120)])
    city = StringField("City", validators=[DataRequired("Enter the city."), Length(max=80)])
    region = StringField("State or region (optional)", validators=[Optional(), Length(max=80)])
    postcode = StringField("ZIP or postal code", validators=[DataRequired("Enter the postal code."), POSTCODE])
    country = SelectField("Country", validators=[DataRequired("Choose a country.")])
    make_default = BooleanField("Deliver here by default")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        if not self.is_submitted():
            self.country.data = self.country.data or current_app.config["SHOP_COUNTRY"]

    def validate_line1(self, field):
        if looks_like_po_box(field.data):
            raise ValidationError("Give a street address: we cannot deliver injectables to a PO box.")

    def validate_line2(self, field):
        self.validate_line1(field)
