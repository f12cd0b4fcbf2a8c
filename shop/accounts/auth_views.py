"""Logging in and out, applying for an account, and setting passwords from emailed links."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from shop import clock
from shop.access import Policy, allow, protect
from shop.accounts import registration, sessions
from shop.accounts import users as accounts
from shop.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, RegistrationForm, SetPasswordForm
from shop.accounts.models import Profession
from shop.accounts.users import INVITE_SALT, RESET_SALT, PracticeDetails
from shop.errors import ShopError
from shop.extensions import limiter
from shop.forms import show_error
from shop.urls import safe_next

bp = Blueprint("auth", __name__)
protect(bp, Policy.PUBLIC)


def _limit(name: str):
    return lambda: current_app.config[name]


def _sign_in(user) -> None:
    """A new login starts a new browser session: nothing from before it (its CSRF token above
    all) carries over."""
    sessions.start_session(user, user_agent=request.user_agent.string, ip_address=request.remote_addr or "")
    session.clear()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("public.start"))
    if form.validate_on_submit():
        user = sessions.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("The email or password is not correct.")
        else:
            _sign_in(user)
            return redirect(safe_next(form.next.data) or _landing(user), code=303)
    return render_template("auth/login.html", form=form)


def _landing(user) -> str:
    if user.is_staff:
        return url_for("staff.dashboard")
    return url_for("catalogue.index") if user.is_verified(clock.today()) else url_for("account.status")


@bp.route("/logout", methods=["POST"])
@allow(Policy.AUTHENTICATED)
def logout():
    sessions.end_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("public.home"), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("public.start"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = registration.register_clinician(_application_from(form), form.licence_document.data)
        except ShopError as error:
            show_error(form, error)
        else:
            _sign_in(user)
            flash("Thank you. Your application is under review; we will email you when it is decided.", "success")
            return redirect(url_for("account.status"), code=303)
    return render_template("auth/register.html", form=form), 200 if request.method == "GET" or not form.errors else 422


def _application_from(form: RegistrationForm) -> registration.Application:
    return registration.Application(
        email=form.email.data,
        password=form.password.data,
        full_name=form.full_name.data,
        profession=Profession(form.profession.data),
        licence_number=form.licence_number.data,
        licence_region=form.licence_region.data,
        licence_expiry=form.licence_expiry.data,
        practice=PracticeDetails(
            name=form.practice_name.data,
            phone=form.phone.data,
            line1=form.address_line1.data,
            line2=form.address_line2.data or "",
            city=form.city.data,
            region=form.region.data or "",
            postcode=form.postcode.data,
            country=form.country.data,
        ),
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("PASSWORD_RESET_RATE_LIMIT"), methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        flash("If an account uses that address, we have emailed it a link to choose a new password.", "success")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def set_password(token: str):
    return _set_password_page(token, RESET_SALT, "Choose a new password")


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    return _set_password_page(token, INVITE_SALT, "Choose your password")


def _set_password_page(token: str, salt: str, title: str):
    user = accounts.user_for_token(token, salt)
    if user is None:
        flash("This link has expired or was already used. Ask for a new one.", "error")
        return redirect(url_for("auth.forgot_password"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password_with_token(token, salt, form.password.data)
        except ShopError as error:
            show_error(form, error)
        else:
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Log in with it now.", "success")
            return redirect(url_for("auth.login"), code=303)
    return render_template("auth/set_password.html", form=form, title=title, user=user)


@bp.route("/account/password", methods=["GET", "POST"])
@allow(Policy.AUTHENTICATED)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                form.current_password.data,
                form.password.data,
                user_agent=request.user_agent.string,
                ip_address=request.remote_addr or "",
            )
        except ShopError as error:
            show_error(form, error)
        else:
            login_user(current_user._get_current_object())
            flash("Your password is changed. Every other login of your account has ended.", "success")
            return redirect(url_for("public.start"), code=303)
    return render_template("auth/change_password.html", form=form)
