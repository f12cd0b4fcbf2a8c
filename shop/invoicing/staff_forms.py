"""Forms of the finance desk: a payment received, and a credit note (chosen packs of lines, or
an amount), with the money returned if it was."""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, DateField, DecimalField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from shop import clock
from shop.forms import ShopForm, money_checks, required_text
from shop.invoicing.models import InvoiceLine, PaymentKind
from shop.invoicing.receipts import RECEIVABLE


class PaymentForm(ShopForm):
    received_on = DateField("Received on", format="%Y-%m-%d", validators=[DataRequired("Enter the day as YYYY-MM-DD.")])
    amount = DecimalField(
        "Amount",
        places=2,
        validators=[InputRequired("Enter the amount received."), *money_checks("Enter an amount such as 1250.50.")],
    )
    reference = StringField(
        "Reference", validators=[DataRequired("Enter the reference on the bank statement."), Length(max=120)]
    )
    kind = SelectField(
        "Paid by", choices=[SelectChoice(k.value, k.label) for k in RECEIVABLE], default=PaymentKind.TRANSFER.value
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and self.received_on.data is None:
            self.received_on.data = clock.today()


class CreditNoteForm(ShopForm):
    """What to credit. The packs of each line are posted as `packs-<line id>` (read by
    `chosen_packs`); an amount is tax included."""

    reason = required_text("Reason (on the credit note)", "Give the reason; the practice sees it.")
    credit = RadioField(
        "Credit",
        choices=[SelectChoice("lines", "Packs of the lines below"), SelectChoice("amount", "An amount")],
        default="lines",
        validators=[DataRequired("Choose what to credit.")],
    )
    amount = DecimalField(
        "Amount, tax included",
        places=2,
        validators=[Optional(), *money_checks("Enter an amount such as 50 or 49.99.")],
    )
    refunded = BooleanField("The money was returned to the practice (card refund or transfer)")
    refund_reference = StringField("Refund reference (optional)", validators=[Optional(), Length(max=80)])


def chosen_packs(form_data, lines: list[InvoiceLine]) -> tuple[dict[int, int], str | None]:
    """The packs typed for each line ({line id: packs}), and what is wrong with them if anything
    (a value that is not a whole number of packs)."""
    chosen = {}
    for line in lines:
        raw = (form_data.get(f"packs-{line.id}") or "").strip()
        if not raw:
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            return {}, f"{line.sku or line.description}: enter a whole number of packs."
        chosen[line.id] = int(raw)
    return chosen, None


def today_default() -> date:
    return clock.today()
