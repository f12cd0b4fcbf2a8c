"""Logging in and out, applying for an account, and setting passwords from emailed links."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from shop.access import Policy, allow, protect
from shop.accounts import joining, login_steps, registration, second_factor, sessions
from shop.accounts import users as accounts
from shop.accounts.forms import (
    ApplicantForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    JoinForm,
    LoginForm,
    RegistrationForm,
    SetPasswordForm,
)
from shop.accounts.models import Profession, normalise_email
from shop.accounts.users import INVITE_SALT, RESET_SALT
from shop.errors import ShopError
from shop.extensions import limiter
from shop.forms import EmptyForm, posted, show_error
from shop.practices import members
from shop.practices.practices import PracticeDetails
from shop.urls import safe_next

bp = Blueprint("auth", __name__)
protect(bp, Policy.PUBLIC)


def _limit(name: str):
    return lambda: current_app.config[name]


def _account_of_form() -> str:
    return "login:" + normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(
    _limit("LOGIN_ACCOUNT_RATE_LIMIT"),
    methods=["POST"],
    key_func=_account_of_form,
    deduct_when=lambda response: response.status_code != 303,
)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("public.start"))
    if form.validate_on_submit():
        user = sessions.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("The email or password is not correct.")
        elif step := second_factor.login_step(user):
            login_steps.hold(user, form.next.data)
            return redirect(url_for("security.login_enrol" if step == "enrol" else "security.login_code"), code=303)
        else:
            login_steps.sign_in(user)
            return redirect(safe_next(form.next.data) or login_steps.landing(user), code=303)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(Policy.AUTHENTICATED)
def logout():
    sessions.end_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("public.home"), code=303)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    _limit("REGISTER_RATE_LIMIT"), methods=["POST"], deduct_when=lambda response: response.status_code == 303
)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("public.start"))
    form = RegistrationForm()
    if request.method == "POST":
        valid = form.validate_on_submit()
        checked = _checked_by_the_shop(form, form.email.data or "", form.practice_name.data or "")
        for problem in registration.application_problems(**checked):
            show_error(form, problem)
        if valid and not form.errors:
            try:
                registration.register_clinician(_application_from(form), form.licence_document.data)
            except ShopError as error:
                show_error(form, error)
            else:
                session["applied_as"] = form.email.data
                return redirect(url_for("auth.application_sent"), code=303)
        _ask_for_the_file_again(form)
    response = make_response(render_template("auth/register.html", form=form), 422 if form.errors else 200)
    response.headers["Cache-Control"] = "private, no-store"  # the password typed is sent back
    return response


def _checked_by_the_shop(form: ApplicantForm, email: str, practice_name: str) -> dict:
    """What the shop checks beyond the form's own rules, for the fields the form accepted."""
    return {
        "password": None if form.password.errors else form.password.data,
        "user_inputs": (email, form.full_name.data or "", practice_name),
        "licence_expiry": None if form.licence_expiry.errors else form.licence_expiry.data,
        "document": None if form.licence_document.errors else form.licence_document.data,
    }


@bp.route("/register/sent")
def application_sent():
    """The same page whether or not the address already had an account."""
    return render_template("auth/application_sent.html", email=session.get("applied_as"))


@bp.route("/register/confirm/<token>")
def confirm_email(token: str):
    user = registration.confirm_email(token)
    if user is None:
        flash("This confirmation link has expired or was already used. Log in to ask for a new one.", "error")
        return redirect(url_for("auth.login"))
    login_steps.sign_in(user)
    flash("Thank you: your address is confirmed and your application is with our verification desk.", "success")
    return redirect(url_for("account.status"), code=303)


@bp.route("/register/join/<token>", methods=["GET", "POST"])
@limiter.limit(
    _limit("REGISTER_RATE_LIMIT"), methods=["POST"], deduct_when=lambda response: response.status_code == 303
)
def join(token: str):
    """Apply as a colleague through an owner's emailed invitation; or, signed in with the invited
    address and no practice (someone who left theirs), join with the account."""
    invitation = members.invitation_for(token)
    if invitation is None:
        flash(
            "This invitation has expired, was withdrawn or was already used. Ask the practice's owner for a new one.",
            "error",
        )
        return redirect(url_for("public.start" if current_user.is_authenticated else "auth.register"))
    if current_user.is_authenticated:
        return _join_signed_in(invitation)
    form = JoinForm()
    refused = False
    if request.method == "POST":
        valid = form.validate_on_submit()
        checked = _checked_by_the_shop(form, invitation.email, invitation.practice.name)
        for problem in registration.application_problems(**checked):
            show_error(form, problem)
        if valid and not form.errors:
            try:
                user = joining.register_invited(invitation, _application_from(form), form.licence_document.data)
            except ShopError as error:
                show_error(form, error)
                refused = True
            else:
                login_steps.sign_in(user)
                flash(
                    f"Thank you: your application to join {invitation.practice.name} is with our verification desk.",
                    "success",
                )
                return redirect(url_for("account.status"), code=303)
        _ask_for_the_file_again(form)
    response = make_response(
        render_template("auth/join.html", form=form, invitation=invitation), 422 if form.errors or refused else 200
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _join_signed_in(invitation):
    form = EmptyForm()
    if request.method == "POST":
        joined = posted(
            form,
            lambda: joining.accept_as_member(invitation, current_user),
            f"You are a member of {invitation.practice.name} now.",
        )
        if joined:
            return redirect(url_for("public.start"), code=303)
    return render_template("auth/join_signed_in.html", form=form, invitation=invitation)


def _ask_for_the_file_again(form: ApplicantForm) -> None:
    if form.errors and not form.licence_document.errors and form.licence_document.data:
        form.licence_document.errors = ["Choose the file again: a browser cannot keep it for you."]


def _application_from(form: ApplicantForm) -> registration.Application:
    """The application a form gives; a colleague's (JoinForm) names neither an address (the
    invited one is used) nor a practice of its own."""
    founding = isinstance(form, RegistrationForm)
    return registration.Application(
        email=form.email.data if founding else "",
        password=form.password.data,
        full_name=form.full_name.data,
        profession=Profession(form.profession.data),
        licence_number=form.licence_number.data,
        licence_region=form.licence_region.data,
        licence_expiry=form.licence_expiry.data,
        practice=_practice_from(form) if founding else None,
    )


def _practice_from(form: RegistrationForm) -> PracticeDetails:
    return PracticeDetails(
        name=form.practice_name.data,
        phone=form.phone.data,
        line1=form.address_line1.data,
        line2=form.address_line2.data or "",
        city=form.city.data,
        region=form.region.data or "",
        postcode=form.postcode.data,
        country=form.country.data,
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
@limiter.limit(_limit("PASSWORD_CHANGE_RATE_LIMIT"), methods=["POST"], key_func=lambda: f"password:{current_user.id}")
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
