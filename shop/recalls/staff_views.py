"""The recall desk: recalls open and closed, opening one for a product's lots, and a recall's
page (who received the lots, what is left on the shelf, who was told and who acknowledged)
with its notices and its report."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from shop.access import Desk, desk_pages
from shop.backoffice import bp
from shop.backoffice.dashboard import QueueCount, queue
from shop.catalogue.models import Product, Variant
from shop.core.formatting import plural
from shop.core.paging import paginate
from shop.errors import ShopError
from shop.extensions import db
from shop.forms import EmptyForm, posted, show_error
from shop.lots.models import Lot
from shop.recalls import recalls
from shop.recalls.models import Recall, RecallEvent, RecallNotice, RecallStatus
from shop.recalls.report import recall_supplies, report_csv, report_pdf_download
from shop.recalls.staff_forms import CallForm, CloseForm, RecallForm

desk_pages(__name__, Desk.RECALLS)


def _recall_or_404(recall_id: int) -> Recall:
    return db.session.get(
        Recall,
        recall_id,
        options=[
            selectinload(Recall.notices).joinedload(RecallNotice.practice),
            selectinload(Recall.notices).joinedload(RecallNotice.acknowledged_by),
            selectinload(Recall.lots).joinedload(Lot.variant),
            selectinload(Recall.events).joinedload(RecallEvent.actor),
            joinedload(Recall.product),
            joinedload(Recall.opened_by),
        ],
    ) or abort(404)


@bp.route("/recalls")
def recalls_list():
    query = (
        select(Recall)
        .options(joinedload(Recall.product), selectinload(Recall.lots), selectinload(Recall.notices))
        .order_by(Recall.status.desc(), Recall.opened_at.desc())
    )
    return render_template("staff/recalls/list.html", page=paginate(query))


@bp.route("/recalls/new", methods=["GET", "POST"])
def recall_new():
    products = db.session.scalars(select(Product).order_by(Product.name)).all()
    product_id = request.args.get("product_id", type=int) or 0
    product = db.session.get(Product, product_id) if 0 < product_id < 2**31 else None
    form = RecallForm()
    lots = []
    if product is not None:
        lots = db.session.scalars(
            select(Lot)
            .join(Variant)
            .where(Variant.product_id == product.id)
            .options(joinedload(Lot.variant))
            .order_by(Variant.sku, Lot.expires_on)
        ).all()
        form.lot_ids.choices = [(lot.id, f"{lot.lot_number} · {lot.variant.sku} · {lot.status.label}") for lot in lots]
        if request.method == "GET" and request.args.get("lot_id", type=int):
            form.lot_ids.data = [request.args.get("lot_id", type=int)]
        if form.validate_on_submit():
            try:
                recall = recalls.open_recall(
                    current_user, product, form.lot_ids.data, form.reason.data, form.manufacturer_reference.data
                )
            except ShopError as error:
                show_error(form, error)
            else:
                flash(
                    f"Recall {recall.number} opened: the lots are off sale. Check the practices below, then send the notice.",
                    "success",
                )
                return redirect(url_for("staff.recall", recall_id=recall.id), code=303)
    return (
        render_template("staff/recalls/new.html", products=products, product=product, lots=lots, form=form),
        422 if form.errors else 200,
    )


@bp.route("/recalls/<id:recall_id>")
def recall(recall_id: int):
    found = _recall_or_404(recall_id)
    return render_template(
        "staff/recalls/detail.html",
        recall=found,
        supplies=recall_supplies(found),
        action_form=EmptyForm(formdata=None),
        close_form=CloseForm(formdata=None),
        call_form=CallForm.for_recall(found, formdata=None),
    )


@bp.route("/recalls/<id:recall_id>/notify", methods=["POST"])
def recall_notify(recall_id: int):
    found = _recall_or_404(recall_id)
    if EmptyForm().validate_on_submit():
        try:
            sent = recalls.notify(current_user, found)
        except ShopError as error:
            flash(error.message, "error")
        else:
            if sent.sent:
                flash(f"The notice went to {plural(sent.sent, 'practice')} and to customer care.", "success")
            if sent.unreachable:
                flash(
                    f"No active member to email at {', '.join(sent.unreachable)}: phone "
                    f"{'it' if len(sent.unreachable) == 1 else 'them'} and record the call below.",
                    "warning",
                )
    else:
        flash("Your form expired. Please try again.", "error")
    return redirect(url_for("staff.recall", recall_id=recall_id), code=303)


@bp.route("/recalls/<id:recall_id>/practices/<id:practice_id>/resend", methods=["POST"])
def recall_resend(recall_id: int, practice_id: int):
    found = _recall_or_404(recall_id)
    posted(EmptyForm(), lambda: recalls.resend(current_user, found, practice_id), "The notice was sent again.")
    return redirect(url_for("staff.recall", recall_id=recall_id), code=303)


@bp.route("/recalls/<id:recall_id>/called", methods=["POST"])
def recall_called(recall_id: int):
    found = _recall_or_404(recall_id)
    form = CallForm.for_recall(found)
    posted(
        form,
        lambda: recalls.record_call(current_user, found, form.practice_id.data, form.note.data),
        "The call is recorded.",
    )
    return redirect(url_for("staff.recall", recall_id=recall_id), code=303)


@bp.route("/recalls/<id:recall_id>/close", methods=["POST"])
def recall_close(recall_id: int):
    found = _recall_or_404(recall_id)
    form = CloseForm()
    posted(form, lambda: recalls.close(current_user, found, form.note.data), f"Recall {found.number} closed.")
    return redirect(url_for("staff.recall", recall_id=recall_id), code=303)


@bp.route("/recalls/<id:recall_id>/report.pdf")
def recall_report_pdf(recall_id: int):
    return report_pdf_download(_recall_or_404(recall_id))


@bp.route("/recalls/<id:recall_id>/report.csv")
def recall_report_csv(recall_id: int):
    return report_csv(_recall_or_404(recall_id))


@queue(position=15, desk=Desk.RECALLS)
def _recall_queue() -> list[QueueCount]:
    open_recalls = db.session.scalar(select(func.count()).where(Recall.status == RecallStatus.OPEN))
    unacknowledged = db.session.scalar(
        select(func.count())
        .select_from(RecallNotice)
        .join(Recall)
        .where(
            Recall.status == RecallStatus.OPEN,
            RecallNotice.first_notified_at.is_not(None),
            RecallNotice.acknowledged_at.is_(None),
        )
    )
    url = url_for("staff.recalls_list")
    return [
        QueueCount(open_recalls, "open recall", "open recalls", url),
        QueueCount(unacknowledged, "recall notice not yet acknowledged", "recall notices not yet acknowledged", url),
    ]
