"""Forms of the customers desk: a practice's terms."""

from wtforms import BooleanField, DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from shop.forms import ShopForm, a_number, money_checks


class PracticeTermsForm(ShopForm):
    on_account = BooleanField("May pay on account (by invoice)")
    payment_terms_days = IntegerField(
        "Payment terms (days)",
        default=30,
        validators=[
            InputRequired("Enter the payment terms in days."),
            a_number("Enter a whole number of days."),
            NumberRange(0, 180, "Between 0 and 180 days."),
        ],
    )
    credit_limit = DecimalField(
        "Credit limit",
        places=2,
        validators=[
            InputRequired("Enter the credit limit (0 for none)."),
            *money_checks("Enter an amount such as 2500 or 2500.50."),
        ],
    )
