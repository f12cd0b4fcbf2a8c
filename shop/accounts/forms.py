"""Forms of the clinician's side of accounts: logging in, applying (founding a practice, or
joining one by invitation), choosing passwords and sending a new licence document."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp
from wtforms.widgets import PasswordInput

from shop.accounts.models import Profession
from shop.forms import ShopForm
from shop.practices.forms import PHONE, POSTCODE, ChoosesCountry, not_a_po_box

LICENCE = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9 ./\-]{2,39}$",
    message="Use letters, digits, spaces, dots, slashes or dashes, as printed on the licence.",
)


def email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254),
            Email("Enter a valid email address, like name@clinic.com.", check_deliverability=False),
        ],
    )


class LoginForm(ShopForm):
    email = email_field()
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=256)])
    next = HiddenField()


class ApplicantForm(ShopForm):
    """The person and their licence: what every application gives, whether it founds a practice
    or joins one by invitation."""

    # Sent back with the other values when something must be corrected (the page is never cached).
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password."), Length(max=128, message="Use at most 128 characters.")],
        widget=PasswordInput(hide_value=False),
    )
    full_name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(min=2, max=120)])
    profession = SelectField(
        "Profession",
        choices=[SelectChoice("", "Choose your profession")] + [SelectChoice(p.value, p.label) for p in Profession],
        # DataRequired, not InputRequired: a value that cleans down to "" (control characters
        # only) must be refused here, not reach Profession("").
        validators=[DataRequired("Choose your profession.")],
    )
    licence_number = StringField(
        "Licence number", validators=[DataRequired("Enter your licence number."), Length(max=40), LICENCE]
    )
    licence_region = StringField(
        "Issuing state or region",
        validators=[DataRequired("Enter where the licence was issued."), Length(min=2, max=80)],
    )
    licence_expiry = DateField(
        "Licence expiry date",
        format="%Y-%m-%d",
        validators=[DataRequired("Enter the expiry date as YYYY-MM-DD.")],
    )
    licence_document = FileField("Scan of your licence", validators=[FileRequired("Attach a scan of your licence.")])


class JoinForm(ApplicantForm):
    """An application through an owner's invitation: the address is the invited one."""


class RegistrationForm(ChoosesCountry, ApplicantForm):
    email = email_field()
    practice_name = StringField(
        "Practice name", validators=[DataRequired("Enter the name of your practice."), Length(min=2, max=160)]
    )
    phone = StringField("Practice phone", validators=[DataRequired("Enter a phone number."), PHONE])
    address_line1 = StringField(
        "Address", validators=[DataRequired("Enter the street address."), Length(max=120), not_a_po_box]
    )
    address_line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=120), not_a_po_box])
    city = StringField("City", validators=[DataRequired("Enter the city."), Length(max=80)])
    region = StringField("State or region", validators=[Optional(), Length(max=80)])
    postcode = StringField("ZIP or postal code", validators=[DataRequired("Enter the postal code."), POSTCODE])
    country = SelectField("Country", validators=[DataRequired("Choose a country.")])


class ForgotPasswordForm(ShopForm):
    email = email_field()


class SetPasswordForm(ShopForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a password."), Length(max=128)])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "The two passwords differ.")],
    )


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])


class DocumentForm(ShopForm):
    licence_document = FileField("Scan of your licence", validators=[FileRequired("Attach a scan of your licence.")])
    licence_expiry = DateField(
        "Licence expiry date", format="%Y-%m-%d", validators=[DataRequired("Enter the expiry date as YYYY-MM-DD.")]
    )
    message = TextAreaField("Message for the verification desk (optional)", validators=[Optional(), Length(max=2000)])


class CodeForm(ShopForm):
    """A code from the authenticator app, or one of the recovery codes."""

    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Type the code your app shows."), Length(max=40, message="That is not a code.")],
    )


class TurnOffSecondFactorForm(CodeForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password."), Length(max=256)])
