"""Staff accounts, managed by admins."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from shop.access import Desk, Policy, allow
from shop.accounts import second_factor, staff_accounts
from shop.accounts import users as accounts
from shop.accounts.models import Role, User
from shop.accounts.staff_forms import DesksForm, StaffUserForm
from shop.backoffice import bp
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, show_error
from shop.practices.models import Practice
from shop.practices.staff_panels import Panel, panel


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
                admin=current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                role=Role(form.role.data),
                desks={Desk(code) for code in form.desks.data},
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"{user.full_name} can now choose a password from the link we emailed to {user.email}.", "success")
            return redirect(url_for("staff.users"), code=303)
    status = 422 if form.errors else 200
    members = _staff_members()
    return (
        render_template(
            "staff/users.html",
            form=form,
            members=members,
            factors=second_factor.factors_of(members),
            resets=second_factor.last_resets(members),
            toggle=EmptyForm(),
            desk_forms={
                m.id: DesksForm(formdata=None, prefix=f"m{m.id}", desks=[d.value for d in m.desks])
                for m in members
                if not m.is_admin
            },
        ),
        status,
    )


def _member_or_404(user_id: int) -> User:
    member = db.session.get(User, user_id)
    if member is None or not member.is_staff:
        abort(404)
    return member


@bp.route("/users/<id:user_id>/<any(deactivate,reactivate):action>", methods=["POST"])
@allow(Policy.ADMIN)
def set_user_active(user_id: int, action: str):
    member = _member_or_404(user_id)
    if EmptyForm().validate_on_submit():
        try:
            accounts.set_active(current_user, member, action == "reactivate")
        except ShopError as error:
            flash(error.message, "error")
        else:
            flash(f"{member.full_name} is {'active again' if member.active else 'deactivated'}.", "success")
    return redirect(url_for("staff.users"), code=303)


@bp.route("/users/<id:user_id>/reset-second-factor", methods=["GET", "POST"])
@allow(Policy.ADMIN)
def reset_second_factor(user_id: int):
    """A colleague (or a clinician who turned one on) lost their phone and their recovery codes:
    after a confirmation, their second factor is cleared; staff set up a new one at their next
    login, clinicians log in with their password and may turn it on again."""
    member = db.session.get(User, user_id)
    if member is None:
        abort(404)
    on_a_practice = member.is_clinician and member.practice_id is not None
    back = url_for("staff.practice", practice_id=member.practice_id) if on_a_practice else url_for("staff.users")
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            second_factor.reset(current_user, member)
        except ShopError as error:
            flash(error.message, "error")
        else:
            flash(
                f"{member.full_name}'s second factor is reset and their logins have ended."
                + (" They set up a new authenticator at their next login." if member.is_staff else ""),
                "success",
            )
        return redirect(back, code=303)
    return render_template("staff/reset_second_factor.html", member=member, form=form, back=back)


@bp.route("/users/<id:user_id>/desks", methods=["POST"])
@allow(Policy.ADMIN)
def set_user_desks(user_id: int):
    member = _member_or_404(user_id)
    form = DesksForm(prefix=f"m{member.id}")
    if form.validate_on_submit():
        try:
            staff_accounts.set_desks(current_user, member, {Desk(code) for code in form.desks.data})
        except ShopError as error:
            flash(error.message, "error")
        else:
            works = "; ".join(d.label for d in Desk if d in member.desks) or "no desk"
            flash(f"{member.full_name} now works: {works}.", "success")
    else:
        flash("Choose the desks from the list.", "error")
    return redirect(url_for("staff.users") + f"#member-{member.id}", code=303)


@bp.route("/users/<id:user_id>/role", methods=["POST"])
@allow(Policy.ADMIN)
def set_user_role(user_id: int):
    member = _member_or_404(user_id)
    role = Role.ADMIN if not member.is_admin else Role.STAFF
    if EmptyForm().validate_on_submit():
        try:
            staff_accounts.set_role(current_user, member, role)
        except ShopError as error:
            flash(error.message, "error")
        else:
            flash(f"{member.full_name} is {'an administrator' if member.is_admin else 'staff'} now.", "success")
    return redirect(url_for("staff.users") + f"#member-{member.id}", code=303)


@panel(position=90)
def _second_factors(practice: Practice) -> Panel | None:
    """A practice's members who use a second factor; an admin can reset one lost with a phone."""
    factors = second_factor.factors_of(practice.members)
    users = [member for member in practice.members if factors.get(member.id)]
    return Panel("Second factors", "staff/practices/_second_factors.html", {"members": users}) if users else None
