"""The clinician's page of their practice: its details, members and delivery addresses for all
its members to see, and for its owners to manage (invite a colleague, change a role, remove a
member, rename, keep the addresses)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from shop import clock
from shop.access import Policy, protect
from shop.errors import NotFound, ShopError
from shop.extensions import limiter
from shop.forms import EmptyForm, posted, show_error
from shop.practices import addresses, members, practices
from shop.practices.forms import AddressForm, DetailsForm, InviteForm, RoleForm
from shop.practices.models import PracticeRole

bp = Blueprint("practice", __name__, url_prefix="/practice")
protect(bp, Policy.VERIFIED)


def _render(*, details_form=None, invite_form=None, address_form=None, status=200):
    practice = current_user.practice
    owner = members.is_owner(current_user)
    return (
        render_template(
            "practice/index.html",
            practice=practice,
            members=members.members_with_licences(practice),
            owner=owner,
            invitations=members.open_invitations(practice) if owner else [],
            details_form=details_form or DetailsForm(formdata=None, obj=practice),
            invite_form=invite_form or InviteForm(formdata=None),
            address_form=address_form or AddressForm(formdata=None),
            role_form=RoleForm(formdata=None),
            action_form=EmptyForm(formdata=None),
            roles=list(PracticeRole),
            today=clock.today(),
        ),
        status,
    )


def _post(form, perform, done: str) -> bool:
    """A button's post (shop.forms.posted), where another practice's member, invitation or
    address is a 404 rather than a message."""

    def attempt():
        try:
            return perform()
        except NotFound:
            abort(404)

    return posted(form, attempt, done)


def _back(anchor: str = ""):
    return redirect(url_for("practice.show") + anchor, code=303)


@bp.route("")
def show():
    return _render()


@bp.route("/details", methods=["POST"])
def details():
    form = DetailsForm()
    if form.validate_on_submit():
        try:
            practices.update_details(current_user, form.name.data, form.phone.data)
        except ShopError as error:
            show_error(form, error)
        else:
            flash("The practice's details are saved.", "success")
            return _back()
    return _render(details_form=form, status=422)


@bp.route("/invitations", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["INVITATION_RATE_LIMIT"],
    key_func=lambda: f"invite:{current_user.id}",
    deduct_when=lambda response: response.status_code == 303,
)
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = members.invite(current_user, form.email.data, PracticeRole(form.role.data))
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"Invitation sent to {invitation.email}. It works for 14 days.", "success")
            return _back("#members")
    return _render(invite_form=form, status=422)


@bp.route("/invitations/<id:invitation_id>/cancel", methods=["POST"])
def cancel_invitation(invitation_id: int):
    _post(EmptyForm(), lambda: members.cancel_invitation(current_user, invitation_id), "Invitation withdrawn.")
    return _back("#members")


@bp.route("/members/<id:member_id>/role", methods=["POST"])
def member_role(member_id: int):
    form = RoleForm()
    _post(
        form,
        lambda: members.set_role(current_user, member_id, PracticeRole(form.role.data)),
        "The member's role is changed.",
    )
    return _back("#members")


@bp.route("/members/<id:member_id>/remove", methods=["POST"])
def remove_member(member_id: int):
    practice = current_user.practice
    removed = _post(
        EmptyForm(),
        lambda: members.remove_member(current_user, practice, member_id),
        "The member is removed; their orders and quotes stay with the practice.",
    )
    if removed and member_id == current_user.id:
        return redirect(url_for("account.status"), code=303)
    return _back("#members")


@bp.route("/addresses", methods=["POST"])
def add_address():
    form = AddressForm()
    if form.validate_on_submit():
        try:
            addresses.add_address(current_user, form.details(), make_default=form.make_default.data)
        except ShopError as error:
            show_error(form, error)
        else:
            flash("The address is added; you can ship orders there now.", "success")
            return _back("#addresses")
    return _render(address_form=form, status=422)


@bp.route("/addresses/<id:address_id>/<any(default,remove):action>", methods=["POST"])
def change_address(address_id: int, action: str):
    change = addresses.make_default if action == "default" else addresses.remove_address
    done = "That is now the default delivery address." if action == "default" else "The address is removed."
    _post(EmptyForm(), lambda: change(current_user, address_id), done)
    return _back("#addresses")
