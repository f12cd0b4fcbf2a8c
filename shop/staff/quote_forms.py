"""Forms of the quotes desk's builder."""

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from shop.forms import ShopForm
from shop.models.quotes import ITEM_NAME_LENGTH
from shop.staff.forms import a_number

MONEY = NumberRange(0, 10_000_000, "Between 0 and 10,000,000.")


def money_checks():
    """An amount in the shop's currency: a finite number, not negative, not absurd."""
    return [a_number("Enter an amount such as 12.50."), MONEY]


class LineEditForm(ShopForm):
    class Meta:
        csrf = False

    line_id = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    quantity = IntegerField(
        "Quantity", validators=[InputRequired("Enter a quantity."), NumberRange(1, 999, "Between 1 and 999.")]
    )
    unit_price = DecimalField("Unit price", places=2, validators=[Optional(), *money_checks()])
    discount = DecimalField(
        "Discount %",
        places=2,
        validators=[
            Optional(),
            a_number("Enter a percentage such as 12.5."),
            NumberRange(0, 100, "Between 0 and 100."),
        ],
    )
    remove = BooleanField("Remove")


class DraftForm(ShopForm):
    lines = FieldList(FormField(LineEditForm), min_entries=0, max_entries=100)
    shipping = DecimalField(
        "Shipping", places=2, validators=[InputRequired("Enter the shipping (0 for free)."), *money_checks()]
    )
    valid_until = DateField(
        "Valid until (end of day)", format="%Y-%m-%d", validators=[DataRequired("Enter a date as YYYY-MM-DD.")]
    )
    terms = TextAreaField("Terms", validators=[Optional(), Length(max=4000)])
    note = TextAreaField("Note to the clinician", validators=[Optional(), Length(max=4000)])


class AddLineForm(ShopForm):
    sku = StringField("Product SKU", validators=[Optional(), Length(max=40)])
    description = StringField("Or a custom item", validators=[Optional(), Length(max=ITEM_NAME_LENGTH)])
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[InputRequired("Enter a quantity."), NumberRange(1, 999, "Between 1 and 999.")],
    )
    unit_price = DecimalField("Unit price", places=2, validators=[Optional(), *money_checks()])


class StartQuoteForm(ShopForm):
    contact_id = SelectField(
        "Clinician", coerce=int, validators=[InputRequired("Choose the clinician the quote is for.")]
    )
