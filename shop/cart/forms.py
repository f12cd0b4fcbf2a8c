from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from shop.forms import ShopForm

QUANTITY_MESSAGE = "Enter a whole number of packs between 1 and 999."


class AddToCartForm(ShopForm):
    sku = StringField("SKU", validators=[DataRequired("Choose a product option."), Length(max=40)])
    quantity = IntegerField(
        "Quantity", default=1, validators=[DataRequired(QUANTITY_MESSAGE), NumberRange(1, 999, QUANTITY_MESSAGE)]
    )
    next = HiddenField()


class UpdateLineForm(ShopForm):
    quantity = IntegerField(
        "Quantity",
        validators=[
            InputRequired("Enter a quantity, or 0 to remove the line."),
            NumberRange(0, 999, "Enter a whole number between 0 and 999."),
        ],
    )


class QuickOrderForm(ShopForm):
    lines = TextAreaField("SKU and quantity, one per line", validators=[Optional(), Length(max=20_000)])
    csv_file = FileField("…or upload a CSV file (sku,quantity)")
