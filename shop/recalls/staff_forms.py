"""The recall desk's forms."""

from __future__ import annotations

from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from shop.forms import ShopForm, required_text


class LotChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RecallForm(ShopForm):
    lot_ids = LotChoices("Lots recalled", coerce=int, validators=[DataRequired("Choose the lots that are recalled.")])
    manufacturer_reference = StringField(
        "Manufacturer's recall reference",
        validators=[DataRequired("Enter the manufacturer's recall reference."), Length(max=80)],
    )
    reason = required_text("Reason (the practices read it)", "Give the manufacturer's reason for the recall.")


class CloseForm(ShopForm):
    note = required_text("How it ended", "Say how the recall ended (packs returned, destroyed...).")


class CallForm(ShopForm):
    """A practice told by phone: one with nobody left to email, or one the desk rang anyway."""

    practice_id = SelectField("Practice", coerce=int, validators=[DataRequired("Choose the practice you called.")])
    note = StringField("Whom you spoke to", validators=[DataRequired("Say whom you spoke to."), Length(max=500)])

    @classmethod
    def for_recall(cls, recall, **kwargs) -> CallForm:
        form = cls(**kwargs)
        form.practice_id.choices = [
            (notice.practice_id, notice.practice.name) for notice in recall.notices if notice.acknowledged_at is None
        ]
        return form
