"""Forms of the verification desk and of staff accounts."""

from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.access import WORK_DESKS, Desk
from shop.forms import ShopForm, required_text


class ApproveForm(ShopForm):
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class RejectForm(ShopForm):
    reason = required_text("Reason for the clinician", "Say why the application is rejected.")


class RequestInfoForm(ShopForm):
    message = required_text("What do you need from the clinician?", "Say what the clinician should send.")


class DesksField(SelectMultipleField):
    """A box to tick for each back-office desk."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label: str, **kwargs):
        super().__init__(label, choices=[SelectChoice(d.value, d.label) for d in Desk], **kwargs)


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
    desks = DesksField("Desks (administrators work every desk)", default=[d.value for d in WORK_DESKS])


class DesksForm(ShopForm):
    """The desks one staff member works (each member's form carries the member's prefix)."""

    desks = DesksField("Desks")
