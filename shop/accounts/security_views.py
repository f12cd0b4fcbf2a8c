"""The second factor in the browser: the code asked at login, setting up an authenticator (at a
staff member's first login, or from the account's security page), recovery codes, and turning
it off (clinicians only)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from shop.access import Policy, allow, protect
from shop.accounts import login_steps, sessions
from shop.accounts import second_factor as factors
from shop.accounts.forms import CodeForm, TurnOffSecondFactorForm
from shop.errors import NotFound, ShopError
from shop.extensions import limiter
from shop.forms import EmptyForm, show_error

bp = Blueprint("security", __name__)
protect(bp, Policy.AUTHENTICATED)

WRONG_CODE = "That code is not right. Type the code your app shows now, or one of your recovery codes."


def _code_limit():
    return current_app.config["SECOND_FACTOR_RATE_LIMIT"]


def _account_key() -> str:
    return f"second-factor:{current_user.id}"


def _login_again():
    flash("Your login waited too long or had too many wrong codes. Log in again.", "error")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=login_steps.code_limit_key)
@allow(Policy.PUBLIC)
def login_code():
    user = login_steps.held_user()
    if user is None:
        return _login_again()
    if factors.login_step(user) == "enrol":
        return redirect(url_for("security.login_enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        if factors.check_code(user, form.code.data):
            return redirect(login_steps.finish(user), code=303)
        if not login_steps.wrong_code():
            return _login_again()
        form.code.errors.append(WRONG_CODE)
    return render_template("auth/login_code.html", form=form), 422 if form.errors else 200


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=login_steps.code_limit_key)
@allow(Policy.PUBLIC)
def login_enrol():
    user = login_steps.held_user()
    if user is None:
        return _login_again()
    if factors.login_step(user) != "enrol":
        return redirect(url_for("security.login_code"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_enrolment(user, form.code.data)
        except ShopError as error:
            if not login_steps.wrong_code():
                return _login_again()
            show_error(form, error)
        else:
            return _show_recovery_codes(codes, login_steps.finish(user))
    return _render_enrolment(user, form, url_for("security.login_enrol"), at_login=True)


def _render_enrolment(user, form, action: str, *, at_login: bool):
    factor = factors.start_enrolment(user)
    return (
        render_template(
            "auth/enrol.html",
            form=form,
            action=action,
            at_login=at_login,
            factor_in_use=factors.active_factor(user) is not None,
            qr_svg=factors.qr_code_svg(factors.provisioning_uri(factor, user)),
            key=factors.grouped(factor.secret),
        ),
        422 if form.errors else 200,
    )


def _show_recovery_codes(codes: list[str], continue_to: str):
    return render_template("auth/recovery_codes.html", codes=codes, continue_to=continue_to)


@bp.route("/account/security")
def account_security():
    return _render_security()


def _duration(span) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{minutes // 60} hour{'' if minutes == 60 else 's'}"


def _render_security(*, code_form=None, off_form=None):
    user = current_user
    token = user.get_id()
    logins = [
        (row, sessions.is_this_browser(row, token), sessions.device_of(row.user_agent))
        for row in sessions.live_sessions(user)
    ]
    return (
        render_template(
            "account/security.html",
            logins=logins,
            idle_for=_duration(sessions.idle_limit(user)),
            factor=factors.active_factor(user),
            codes_left=factors.recovery_codes_left(user),
            code_form=code_form or CodeForm(formdata=None, prefix="codes"),
            off_form=off_form or TurnOffSecondFactorForm(formdata=None, prefix="off"),
            action_form=EmptyForm(formdata=None),
        ),
        422 if code_form or off_form else 200,
    )


@bp.route("/account/security/authenticator", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=_account_key)
def set_up_authenticator():
    user = current_user._get_current_object()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_enrolment(user, form.code.data)
        except ShopError as error:
            show_error(form, error)
        else:
            login_steps.sign_in(user)
            flash("Your authenticator is set up: logins now ask for a code from it.", "success")
            return _show_recovery_codes(codes, url_for("security.account_security"))
    return _render_enrolment(user, form, url_for("security.set_up_authenticator"), at_login=False)


@bp.route("/account/security/recovery-codes", methods=["POST"])
@limiter.limit(_code_limit, key_func=_account_key)
def new_recovery_codes():
    form = CodeForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = factors.new_recovery_codes(current_user, form.code.data)
        except ShopError as error:
            show_error(form, error)
        else:
            return _show_recovery_codes(codes, url_for("security.account_security"))
    return _render_security(code_form=form)


@bp.route("/account/security/second-factor/off", methods=["POST"])
@limiter.limit(_code_limit, key_func=_account_key)
@allow(Policy.CLINICIAN)
def turn_off():
    form = TurnOffSecondFactorForm(prefix="off")
    if form.validate_on_submit():
        try:
            factors.turn_off(current_user, form.password.data, form.code.data)
        except ShopError as error:
            show_error(form, error)
        else:
            flash("The second factor is off: logins ask only for your password.", "success")
            return redirect(url_for("security.account_security"), code=303)
    return _render_security(off_form=form)


@bp.route("/account/security/logins/<id:session_id>/end", methods=["POST"])
def end_login(session_id: int):
    if EmptyForm().validate_on_submit():
        try:
            sessions.end_session_of(current_user, session_id, token=current_user.get_id())
        except NotFound:
            abort(404)
        except ShopError as error:
            flash(error.message, "error")
        else:
            flash("That login has ended: the browser must log in again.", "success")
    return redirect(url_for("security.account_security") + "#logins", code=303)


@bp.route("/account/security/logins/end-others", methods=["POST"])
def end_other_logins():
    if EmptyForm().validate_on_submit():
        ended = sessions.end_other_sessions(current_user, current_user.get_id())
        flash(
            f"{ended} other login{'' if ended == 1 else 's'} ended." if ended else "There were no other logins.",
            "success",
        )
    return redirect(url_for("security.account_security") + "#logins", code=303)
