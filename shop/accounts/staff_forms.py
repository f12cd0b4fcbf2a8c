from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from shop.forms import ShopForm, a_number, money_checks


class ApproveForm(ShopForm):
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class RejectForm(ShopForm):
    reason = TextAreaField(
        "Reason for the clinician", validators=[DataRequired("Say why the application is rejected."), Length(max=2000)]
    )


class RequestInfoForm(ShopForm):
    message = TextAreaField(
        "What do you need from the clinician?",
        validators=[DataRequired("Say what the clinician should send."), Length(max=2000)],
    )


class StaffUserForm(ShopForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter an email address."),
            Length(max=254),
            Email("Enter a valid email address.", check_deliverability=False),
        ],
    )
    full_name = StringField("Full name", validators=[DataRequired("Enter the name."), Length(min=2, max=120)])
    role = SelectField(
        "Role", choices=[SelectChoice("staff", "Staff"), SelectChoice("admin", "Administrator")], default="staff"
    )


class ShipForm(ShopForm):
    carrier = StringField("Carrier", validators=[DataRequired("Enter the carrier."), Length(max=60)])
    tracking_number = StringField(
        "Tracking number", validators=[DataRequired("Enter the tracking number."), Length(max=80)]
    )


class ReasonForm(ShopForm):
    reason = TextAreaField(
        "Reason (the clinician sees it)",
        validators=[DataRequired("Give the reason; the clinician will see it."), Length(max=2000)],
    )


class NoteForm(ShopForm):
    note = TextAreaField("Note", validators=[DataRequired("Write a short note for the record."), Length(max=2000)])


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
