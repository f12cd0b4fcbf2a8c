"""Quotes for verified clinicians: ask for one, read every version, talk to the desk, accept
(which goes to checkout at the quoted prices) or decline."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shop import clock
from shop.access import Policy, allow, protect
from shop.cart import services as carts
from shop.core.paging import paginate
from shop.errors import InvalidTransition, NotEligible, NotFound, ShopError
from shop.forms import clean_text, posted, show_error
from shop.ordering import credit
from shop.ordering.models import PaymentMethod
from shop.ordering.views import pay_for
from shop.quoting import acceptance as quote_orders
from shop.quoting import quotes
from shop.quoting.document import pdf_download, quote_document
from shop.quoting.forms import REQUEST_ROWS, AcceptForm, CommentForm, DeclineForm, QuoteRequestForm
from shop.urls import add_post_routes

bp = Blueprint("quotes", __name__, url_prefix="/quotes")
protect(bp, Policy.VERIFIED)


def _own(number: str):
    try:
        return quotes.practice_quote(current_user, number)
    except NotFound:
        abort(404)


@bp.route("")
@allow(Policy.MEMBER)
def index():
    page = paginate(quotes.practice_quotes(current_user))
    return render_template("quotes/index.html", page=page, now=clock.now())


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = QuoteRequestForm()
    if not form.is_submitted() and request.args.get("from") == "cart":
        form.fill_from(carts.lines_of(current_user))
    elif not form.is_submitted() and clean_text(request.args.get("item", "")):
        form.fill_item(clean_text(request.args.get("item", "")))
    valid = form.validate_on_submit()
    if form.is_submitted() and _rows_are_askable(form) and valid:
        try:
            quote = quotes.request_quote(
                current_user, form.requested_items(), target_date=form.target_date.data, message=form.message.data or ""
            )
        except ShopError as error:
            if error.field == "items":
                form.row_error(form.products, 0, "sku", error.message)
            else:
                show_error(form, error)
        else:
            flash(
                f"Thank you. Your request {quote.number} is with the quotes desk; we have emailed you a copy.",
                "success",
            )
            return redirect(url_for("quotes.detail", number=quote.number), code=303)
    return (
        render_template(
            "quotes/new.html",
            form=form,
            skus=quotes.sku_choices(current_user),
            rows=REQUEST_ROWS,
        ),
        422 if form.errors else 200,
    )


def _rows_are_askable(form: QuoteRequestForm) -> bool:
    """Put each row's problem next to it: an SKU that cannot be asked for, a quantity without
    an item."""
    for index, row in enumerate(form.products):
        sku = (row.sku.data or "").strip()
        problem = quotes.sku_problem(current_user, sku) if sku else None
        if problem:
            form.row_error(form.products, index, "sku", problem)
        elif not sku and row.quantity.data:
            form.row_error(form.products, index, "sku", "Enter the product's SKU, or clear the quantity.")
    for index, row in enumerate(form.others):
        if not (row.item.data or "").strip() and row.quantity.data:
            form.row_error(form.others, index, "item", "Describe the item, or clear the quantity.")
    return not form.errors


def _version(quote, number_arg):
    sent = [v for v in quote.versions if v.is_sent]
    if not sent:
        return None
    try:
        wanted = int(number_arg) if number_arg else sent[-1].number
    except ValueError:
        wanted = sent[-1].number
    return next((v for v in sent if v.number == wanted), None) or abort(404)


@bp.route("/<quote_number:number>")
@allow(Policy.MEMBER)
def detail(number: str):
    quote = _own(number)
    version = _version(quote, request.args.get("version"))
    now = clock.now()
    return render_template(
        "quotes/detail.html",
        quote=quote,
        version=version,
        document=quote_document(quote, version) if version else None,
        status=quote.status_at(now),
        actions=quote.available_actions(now),
        comment_form=CommentForm(formdata=None),
        decline_form=DeclineForm(formdata=None),
    )


@bp.route("/<quote_number:number>/pdf")
@allow(Policy.MEMBER)
def pdf(number: str):
    quote = _own(number)
    version = _version(quote, request.args.get("version"))
    if version is None:
        abort(404)
    return pdf_download(quote, version)


def _refused(number: str, error: ShopError):
    """Back to the quote, saying why it was refused."""
    flash(error.message, "error")
    return redirect(url_for("quotes.detail", number=number), code=303)


def _act(number: str, form, perform, done: str):
    """A clinician's post about a quote: validate, perform, say how it went, back to the quote."""
    quote = _own(number)
    posted(form, lambda: perform(quote, form), done)
    return redirect(url_for("quotes.detail", number=number), code=303)


# The clinician's posts about a quote: the form, what it does, and what the page then says.
CLINICIAN_POSTS = {
    "comment": (
        CommentForm,
        lambda quote, form: quotes.add_comment(current_user, quote, form.body.data),
        "Your message is with the quotes desk.",
    ),
    "changes": (
        CommentForm,
        lambda quote, form: quotes.request_changes(current_user, quote, form.body.data),
        "Your request for changes is with the quotes desk; they will send a revised version.",
    ),
    "decline": (
        DeclineForm,
        lambda quote, form: quotes.decline(current_user, quote, form.reason.data),
        "You declined the quote. Thank you for telling us why.",
    ),
}


def _clinician_post(action: str):
    form_class, perform, done = CLINICIAN_POSTS[action]
    return lambda number: _act(number, form_class(), perform, done)


add_post_routes(bp, "/<quote_number:number>/{name}", CLINICIAN_POSTS, _clinician_post)


def _accept_form(version) -> AcceptForm:
    form = AcceptForm()
    form.offer(current_user, version.total_cents)
    if not form.is_submitted():
        form.version.data = version.number
    return form


@bp.route("/<quote_number:number>/accept", methods=["GET", "POST"])
def accept(number: str):
    quote = _own(number)
    version = quote.latest_sent
    try:
        if version is None:
            raise InvalidTransition("This quote has not been sent yet.")
        quote_orders.acceptable_version(current_user, quote, int(request.form.get("version") or version.number))
    except (ShopError, ValueError) as error:
        return _refused(number, error if isinstance(error, ShopError) else NotEligible("Choose a version to accept."))
    form = _accept_form(version)
    if form.validate_on_submit():
        try:
            placed = quote_orders.accept_quote(current_user, quote, form.version.data, form.checkout_request())
        except ShopError as error:
            if error.field is None:
                # Not about a field (stock, the quote's state): say so on the quote itself.
                return _refused(number, error)
            show_error(form, error)
        else:
            flash(f"Quote {number} accepted: order {placed.number} is placed at the quoted prices.", "success")
            if placed.payment_method == PaymentMethod.CARD:
                return pay_for(placed.number)
            return redirect(url_for("orders.detail", number=placed.number), code=303)
    return (
        render_template(
            "quotes/accept.html",
            quote=quote,
            version=version,
            document=quote_document(quote, version),
            form=form,
            credit=credit.available_credit(current_user),
        ),
        422 if form.errors else 200,
    )
