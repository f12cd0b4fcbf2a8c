"""Staff accounts, managed by admins."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from shop.access import Policy, allow
from shop.accounts import users as accounts
from shop.accounts.models import Role, User
from shop.accounts.staff_forms import StaffUserForm
from shop.backoffice import bp
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, show_error


def _staff_members():
    return db.session.scalars(
        select(User).where(User.role.in_([Role.STAFF, Role.ADMIN])).order_by(User.full_name)
    ).all()


@bp.route("/users", methods=["GET", "POST"])
@allow(Policy.ADMIN)
def users():
    form = StaffUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite_staff(
                admin=current_user, email=form.email.data, full_name=form.full_name.data, role=Role(form.role.data)
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"{user.full_name} can now choose a password from the link we emailed to {user.email}.", "success")
            return redirect(url_for("staff.users"), code=303)
    status = 422 if form.errors else 200
    return render_template("staff/users.html", form=form, members=_staff_members(), toggle=EmptyForm()), status


@bp.route("/users/<id:user_id>/<any(deactivate,reactivate):action>", methods=["POST"])
@allow(Policy.ADMIN)
def set_user_active(user_id: int, action: str):
    member = db.session.get(User, user_id)
    if member is None or not member.is_staff:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            accounts.set_active(current_user, member, action == "reactivate")
        except ShopError as error:
            flash(error.message, "error")
        else:
            flash(f"{member.full_name} is {'active again' if member.active else 'deactivated'}.", "success")
    return redirect(url_for("staff.users"), code=303)
