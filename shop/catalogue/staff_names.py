"""The catalogue's names in the back office: categories, brands, ingredients, treatment areas."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.catalogue import names
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, clean_line, posted

desk_pages(__name__, Desk.CATALOGUE)


def _kind_or_404(kind: str) -> names.Kind:
    if kind not in names.KINDS:
        abort(404)
    return names.KINDS[kind]


def _row_or_404(kind: names.Kind, row_id: int):
    return db.get_or_404(kind.model, row_id)


@bp.route("/catalogue/names/<kind>", methods=["GET", "POST"])
def catalogue_names(kind: str):
    found = _kind_or_404(kind)
    form = EmptyForm()
    error, typed = None, ""
    if request.method == "POST":
        typed = clean_line(request.form.get("name", ""))[:200]
        if not form.validate_on_submit():
            error = "Your form expired. Please try again."
        else:
            try:
                row = names.add(current_user, found, typed)
            except ShopError as refusal:
                error = refusal.message
            else:
                flash(f"{found.singular.capitalize()} “{row.name}” is added.", "success")
                return redirect(url_for("staff.catalogue_names", kind=kind), code=303)
    return (
        render_template(
            "staff/catalogue/names.html",
            kind=found,
            kinds=names.KINDS,
            rows=names.rows_of(found),
            usage=found.usage(),
            form=form,
            error=error,
            typed=typed,
        ),
        422 if error else 200,
    )


@bp.route("/catalogue/names/<kind>/<id:row_id>", methods=["POST"])
def catalogue_name_rename(kind: str, row_id: int):
    found = _kind_or_404(kind)
    row = _row_or_404(found, row_id)
    new_name = clean_line(request.form.get("name", ""))
    posted(EmptyForm(), lambda: names.rename(current_user, found, row, new_name), "The name is saved.")
    return redirect(url_for("staff.catalogue_names", kind=kind), code=303)


@bp.route("/catalogue/names/<kind>/<id:row_id>/delete", methods=["POST"])
def catalogue_name_delete(kind: str, row_id: int):
    found = _kind_or_404(kind)
    row = _row_or_404(found, row_id)
    name = row.name
    posted(EmptyForm(), lambda: names.delete(current_user, found, row), f"“{name}” is deleted.")
    return redirect(url_for("staff.catalogue_names", kind=kind), code=303)
