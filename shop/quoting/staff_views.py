"""The quotes desk: starting a quote for a practice that called or faxed, the builder (lines, prices or discounts, shipping, validity, terms, note), sending,
revisions and the conversation. (The desk's lists and queue are in `staff_queue`.)"""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from shop import clock
from shop.access import Desk, desk_pages
from shop.accounts.models import Role, User
from shop.backoffice import bp
from shop.core.pricing import cents
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, posted, show_error
from shop.quoting import builder as quote_builder
from shop.quoting import quotes
from shop.quoting.document import pdf_download, quote_document
from shop.quoting.forms import CommentForm
from shop.quoting.models import Quote
from shop.quoting.staff_forms import AddLineForm, DraftForm, StartQuoteForm

desk_pages(__name__, Desk.QUOTES)


def _clinicians():
    return db.session.scalars(
        select(User)
        .where(User.role == Role.CLINICIAN, User.active.is_(True), User.practice_id.is_not(None))
        .order_by(User.full_name)
    ).all()


@bp.route("/quotes/new", methods=["GET", "POST"])
def quote_start():
    form = StartQuoteForm()
    today = clock.today()
    form.contact_id.choices = [
        SelectChoice(u.id, f"{u.practice.name} — {u.full_name} ({u.email})")
        for u in sorted(_clinicians(), key=lambda u: (u.practice.name.lower(), u.full_name.lower()))
        if u.is_verified(today)
    ]
    if form.validate_on_submit():
        contact = db.session.get(User, form.contact_id.data)
        try:
            quote = quote_builder.start_quote(current_user, contact)
        except ShopError as error:
            show_error(form, error)
        else:
            flash(f"Quote {quote.number} started for {contact.full_name}. Add its lines below.", "success")
            return redirect(url_for("staff.quote", number=quote.number), code=303)
    return render_template("staff/quotes/new.html", form=form), 422 if form.errors else 200


def _quote_or_404(number: str) -> Quote:
    quote = quotes.quote_by_number(number)
    if quote is None:
        abort(404)
    return quote


def _draft_form(version) -> DraftForm:
    form = DraftForm(formdata=None)
    for line in version.lines:
        form.lines.append_entry(
            {
                "line_id": line.id,
                "quantity": line.quantity,
                "unit_price": Decimal(line.unit_price_cents) / 100,
                "discount": Decimal(line.discount_bps) / 100 if line.discount_bps else None,
                "remove": False,
            }
        )
    form.shipping.data = Decimal(version.shipping_cents) / 100
    form.valid_until.data = version.valid_until
    form.terms.data = version.terms
    form.note.data = version.note
    return form


def _render(quote: Quote, *, draft_form=None, add_form=None, status=200):
    now = clock.now()
    draft = quote.draft
    shown = quote.latest_sent
    try:
        wanted = int(request.args.get("version", 0))
    except ValueError:
        wanted = 0
    if wanted:
        shown = next((v for v in quote.versions if v.is_sent and v.number == wanted), shown)
    draft_form = draft_form or (_draft_form(draft) if draft else None)
    # Each row of the builder beside the line it edits (a stale or forged form may name others).
    lines = {line.id: line for line in draft.lines} if draft else {}
    rows = draft_form.lines if draft else []
    builder_rows = [(row, lines[row.line_id.data]) for row in rows if row.line_id.data in lines]
    row_labels = [
        lines[row.line_id.data].product_name if row.line_id.data in lines else f"Line {n}"
        for n, row in enumerate(rows, start=1)
    ]
    return (
        render_template(
            "staff/quotes/detail.html",
            quote=quote,
            draft=draft,
            shown=shown,
            document=quote_document(quote, shown) if shown else None,
            draft_form=draft_form,
            builder_rows=builder_rows,
            row_labels=row_labels,
            add_form=add_form or AddLineForm(formdata=None),
            comment_form=CommentForm(formdata=None),
            action_form=EmptyForm(formdata=None),
            status_now=quote.status_at(now),
            actions=quote.available_actions(now),
            skus=quotes.sku_choices(quote.contact),
        ),
        status,
    )


@bp.route("/quotes/<quote_number:number>")
def quote(number: str):
    return _render(_quote_or_404(number))


@bp.route("/quotes/<quote_number:number>/draft", methods=["POST"])
def quote_draft(number: str):
    quote = _quote_or_404(number)
    try:
        version = quote_builder.open_draft(current_user, quote)
    except ShopError as error:
        flash(error.message, "error")
    else:
        flash(f"Draft v{version.number} is open. Edit it, then send it.", "success")
    return redirect(url_for("staff.quote", number=number), code=303)


@bp.route("/quotes/<quote_number:number>/save", methods=["POST"])
def quote_save(number: str):
    quote = _quote_or_404(number)
    form = DraftForm()
    valid = form.validate_on_submit()
    problem = quote_builder.validity_problem(form.valid_until.data) if form.valid_until.data else None
    if problem:  # shown with the other mistakes, not only once they are fixed
        form.valid_until.errors = [*form.valid_until.errors, problem]
    if valid and not problem:
        edit = quote_builder.DraftEdit(
            lines=[
                quote_builder.LineEdit(
                    line_id=row.line_id.data,
                    quantity=row.quantity.data,
                    unit_price_cents=cents(row.unit_price.data),
                    discount_bps=cents(row.discount.data) or 0,
                    remove=bool(row.remove.data),
                )
                for row in form.lines
            ],
            shipping_cents=cents(form.shipping.data) or 0,
            valid_until=form.valid_until.data,
            terms=form.terms.data or "",
            note=form.note.data or "",
        )
        try:
            quote_builder.save_draft(current_user, quote, edit)
        except ShopError as error:
            show_error(form, error)
        else:
            if request.form.get("then") == "send":
                return _send(quote)
            flash("Draft saved.", "success")
            return redirect(url_for("staff.quote", number=number), code=303)
    return _render(quote, draft_form=form, status=422)


def _send(quote: Quote):
    try:
        version = quote_builder.send_quote(current_user, quote)
    except ShopError as error:
        flash(error.message, "error")
        return redirect(url_for("staff.quote", number=quote.number), code=303)
    flash(f"{quote.number} v{version.number} is sent to {quote.contact.email} with its PDF.", "success")
    return redirect(url_for("staff.quote", number=quote.number), code=303)


@bp.route("/quotes/<quote_number:number>/send", methods=["POST"])
def quote_send(number: str):
    quote = _quote_or_404(number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _send(quote)


@bp.route("/quotes/<quote_number:number>/lines", methods=["POST"])
def quote_add_line(number: str):
    quote = _quote_or_404(number)
    form = AddLineForm()
    if form.validate_on_submit():
        try:
            quote_builder.add_line(
                current_user,
                quote,
                sku=form.sku.data or "",
                description=form.description.data or "",
                quantity=form.quantity.data,
                unit_price_cents=cents(form.unit_price.data),
            )
        except ShopError as error:
            show_error(form, error)
        else:
            flash("Line added.", "success")
            return redirect(url_for("staff.quote", number=number), code=303)
    return _render(quote, add_form=form, status=422)


@bp.route("/quotes/<quote_number:number>/comment", methods=["POST"])
def quote_comment(number: str):
    quote = _quote_or_404(number)
    form = CommentForm()
    posted(form, lambda: quotes.add_comment(current_user, quote, form.body.data), "Message sent to the clinician.")
    return redirect(url_for("staff.quote", number=number), code=303)


@bp.route("/quotes/<quote_number:number>/pdf")
def quote_pdf_file(number: str):
    quote = _quote_or_404(number)
    try:
        wanted = int(request.args.get("version", 0))
    except ValueError:
        wanted = 0
    version = (
        next((v for v in quote.versions if v.number == wanted), None) if wanted else (quote.latest_sent or quote.draft)
    )
    if version is None:
        abort(404)
    return pdf_download(quote, version)
