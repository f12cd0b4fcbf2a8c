"""Forms of the customers desk: a practice's terms, its suspension, and its agreed prices."""

from wtforms import BooleanField, DecimalField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from shop.core.limits import SKU_LENGTH
from shop.forms import ShopForm, a_number, money_checks, required_text


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
    discount = DecimalField(
        "Practice discount (%)",
        places=2,
        validators=[
            Optional(),
            a_number("Enter a percentage such as 5 or 7.5."),
            NumberRange(0, 90, "Between 0 and 90 percent."),
        ],
    )


class SuspendForm(ShopForm):
    reason = required_text("Reason (the practice's members are told it)", "Give the reason; the members are told it.")


class ReinstateForm(ShopForm):
    note = required_text("What was resolved", "Say what was resolved, for the record.")


class AgreedPriceForm(ShopForm):
    sku = StringField("SKU", validators=[DataRequired("Enter the SKU."), Length(max=SKU_LENGTH)])
    unit_price = DecimalField(
        "Agreed unit price",
        places=2,
        validators=[InputRequired("Enter the agreed price."), *money_checks("Enter an amount such as 89 or 89.50.")],
    )
