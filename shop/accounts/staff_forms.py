"""Forms of the verification desk and of staff accounts."""

from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from shop.access import WORK_DESKS, Desk
from shop.accounts.forms import LICENCE
from shop.accounts.licences import LicenceApplication
from shop.accounts.models import Profession
from shop.accounts.verification import LicenceDetails
from shop.forms import ShopForm, required_text


class ApproveForm(ShopForm):
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)])


class RejectForm(ShopForm):
    reason = required_text("Reason for the clinician", "Say why the application is rejected.")


class RequestInfoForm(ShopForm):
    message = required_text("What do you need from the clinician?", "Say what the clinician should send.")


class CorrectionForm(ShopForm):
    """The licence details as the desk reads them on the document."""

    profession = SelectField(
        "Profession",
        choices=[SelectChoice(p.value, p.label) for p in Profession],
        validators=[DataRequired("Choose the profession.")],
    )
    licence_number = StringField(
        "Licence number", validators=[DataRequired("Enter the licence number."), Length(max=40), LICENCE]
    )
    licence_region = StringField(
        "Issued by", validators=[DataRequired("Enter where the licence was issued."), Length(min=2, max=80)]
    )
    licence_expiry = DateField(
        "Expiry date", format="%Y-%m-%d", validators=[DataRequired("Enter the expiry date as YYYY-MM-DD.")]
    )

    @classmethod
    def of(cls, application: LicenceApplication) -> "CorrectionForm":
        details = application.licence_details()
        return cls(formdata=None, data={**details, "profession": details["profession"].value})

    def details(self) -> LicenceDetails:
        return LicenceDetails(
            profession=Profession(self.profession.data),
            licence_number=self.licence_number.data,
            licence_region=self.licence_region.data,
            licence_expiry=self.licence_expiry.data,
        )


class AttachForm(ShopForm):
    """The practice the desk attaches an applicant to (a button per practice offered)."""

    practice_id = IntegerField(
        "Practice", validators=[DataRequired("Choose a practice."), NumberRange(1, 2**31 - 1, "Choose a practice.")]
    )


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
