"""The base form every blueprint's forms extend, the checks several forms share, and helpers
for showing service errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from flask import flash
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation

from shop.core.formatting import one_line
from shop.core.limits import MAX_LINE_QUANTITY
from shop.errors import ShopError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value):
    """Strip surrounding space and drop control characters (a NUL byte would make PostgreSQL
    refuse the row); leaves non-text values (files, dates) alone."""
    if isinstance(value, str):
        return _CONTROL.sub("", value).strip()
    return value


def clean_line(value):
    """A single-line value (a name, a PO number): line breaks and tabs become one space, and
    control characters go, so the value can never break an email subject or a header."""
    if isinstance(value, str):
        return clean_text(one_line(value))
    return value


def _single_line(field_class) -> bool:
    """A field a person types one line into (hidden fields carry the page's own values, which are
    checked as they came, and passwords are taken as typed)."""
    return issubclass(field_class, StringField) and not issubclass(
        field_class, TextAreaField | PasswordField | HiddenField
    )


class ShopForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (FieldList, FormField)):
                return unbound_field.bind(form=form, **options)  # their own fields are cleaned
            filters = list(unbound_field.kwargs.get("filters", ()))
            filters.insert(0, clean_line if _single_line(unbound_field.field_class) else clean_text)
            options["filters"] = filters
            return unbound_field.bind(form=form, **options)


class EmptyForm(ShopForm):
    """A form with only the CSRF token, for buttons that post."""


def parsed(_form, field) -> None:
    """Stop at "not a valid integer" (or number), so a word is not also told it is out of range."""
    if field.process_errors:
        raise StopValidation()


def a_number(message: str):
    """Stop at the first message: a value that is not a number gets "not a valid number", not
    also "out of range"; NaN and infinities (which Decimal accepts) get `message`."""

    def check(form, field) -> None:
        parsed(form, field)
        if isinstance(field.data, Decimal) and not field.data.is_finite():
            raise StopValidation(message)

    return check


def required_text(label: str, missing: str, *, max_length: int = 2000) -> TextAreaField:
    """A text people must write (a reason, a note for the record), up to `max_length` characters."""
    return TextAreaField(label, validators=[DataRequired(missing), Length(max=max_length)])


def line_quantity(message: str = f"Between 1 and {MAX_LINE_QUANTITY}.", *, allow_zero: bool = False) -> NumberRange:
    """The quantity of one line: whole packs up to MAX_LINE_QUANTITY (0 where it removes the line)."""
    return NumberRange(0 if allow_zero else 1, MAX_LINE_QUANTITY, message)


MONEY = NumberRange(0, 10_000_000, "Between 0 and 10,000,000.")


def money_checks(message: str = "Enter an amount such as 12.50."):
    """An amount in the shop's currency: a finite number, not negative, not absurd."""
    return [a_number(message), MONEY]


def posted(form: FlaskForm | None, perform: Callable[[], object], done: str) -> bool:
    """A button's post, as every page handles one: a form that does not validate, or the
    service's refusal, is flashed as an error, otherwise `done` is flashed. Returns whether it
    went through."""
    if form is not None and not form.validate_on_submit():
        flash(first_error(form), "error")
        return False
    try:
        perform()
    except ShopError as error:
        flash(error.message, "error")
        return False
    flash(done, "success")
    return True


def show_error(form: FlaskForm, error: ShopError) -> None:
    """Put a service's refusal next to the field it is about, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        flash(error.message, "error")


def first_error(form: FlaskForm) -> str:
    """The first validation message of a form, for a flash after a redirect."""
    for name, errors in form.errors.items():
        if errors:
            if name == "csrf_token":
                return "Your form expired. Please try again."
            label = getattr(form, name).label.text
            return f"{label}: {errors[0]}"
    return "Please check the form and try again."
