"""The base form every blueprint's forms extend, and helpers for showing service errors."""

from __future__ import annotations

import re

from flask import flash
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField

from shop.errors import ShopError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value):
    """Strip surrounding space and drop control characters (a NUL byte would make PostgreSQL
    refuse the row); leaves non-text values (files, dates) alone."""
    if isinstance(value, str):
        return _CONTROL.sub("", value).strip()
    return value


class ShopForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (FieldList, FormField)):
                return unbound_field.bind(form=form, **options)  # their own fields are cleaned
            filters = list(unbound_field.kwargs.get("filters", ()))
            filters.insert(0, clean_text)
            options["filters"] = filters
            return unbound_field.bind(form=form, **options)


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
