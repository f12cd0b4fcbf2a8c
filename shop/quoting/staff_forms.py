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

from shop.core.limits import ITEM_NAME_LENGTH, MAX_QUOTE_LINES, SKU_LENGTH
from shop.forms import ShopForm, a_number, line_quantity, money_checks


class LineEditForm(ShopForm):
    class Meta:
        csrf = False

    line_id = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    quantity = IntegerField("Quantity", validators=[InputRequired("Enter a quantity."), line_quantity()])
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
    lines = FieldList(FormField(LineEditForm), min_entries=0, max_entries=MAX_QUOTE_LINES)
    shipping = DecimalField(
        "Shipping", places=2, validators=[InputRequired("Enter the shipping (0 for free)."), *money_checks()]
    )
    valid_until = DateField(
        "Valid until (end of day)", format="%Y-%m-%d", validators=[DataRequired("Enter a date as YYYY-MM-DD.")]
    )
    terms = TextAreaField("Terms", validators=[Optional(), Length(max=4000)])
    note = TextAreaField("Note to the clinician", validators=[Optional(), Length(max=4000)])


class AddLineForm(ShopForm):
    sku = StringField("Product SKU", validators=[Optional(), Length(max=SKU_LENGTH)])
    description = StringField("Or a custom item", validators=[Optional(), Length(max=ITEM_NAME_LENGTH)])
    quantity = IntegerField(
        "Quantity",
        default=1,
        validators=[InputRequired("Enter a quantity."), line_quantity()],
    )
    unit_price = DecimalField("Unit price", places=2, validators=[Optional(), *money_checks()])


class StartQuoteForm(ShopForm):
    contact_id = SelectField(
        "Clinician", coerce=int, validators=[InputRequired("Choose the clinician the quote is for.")]
    )
