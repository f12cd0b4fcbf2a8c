"""The recall notice, to every member of an affected practice (with what they received: which
orders, parcels, lots and packs), and the summary to the customer-care desk, who take the calls.
Queued through the outbox in the caller's transaction."""

from __future__ import annotations

from flask import current_app

from shop.core.formatting import plural
from shop.core.outbox import queue_email
from shop.practices.models import Practice
from shop.recalls.models import Recall, RecallNotice
from shop.shipping.records import SupplyFilter, supplies
from shop.urls import external_url


def email_notice(notice: RecallNotice) -> list[str]:
    """Email the notice to the practice's active members; the addresses it went to."""
    recall, practice = notice.recall, notice.practice
    received = supplies(SupplyFilter(practice_id=practice.id, lot_ids=tuple(lot.id for lot in recall.lots)))
    addresses = sorted({member.email for member in practice.active_members})
    for address in addresses:
        queue_email(
            kind="recall.notice",
            to=address,
            reply_to=current_app.config["CUSTOMER_CARE_EMAIL"],
            subject=f"URGENT: product recall {recall.number}, {recall.product.name} lot {recall.lot_numbers}",
            template="recall_notice",
            recall=recall,
            practice=practice,
            received=received,
            link=external_url("recalls.detail", recall_id=recall.id),
        )
    return addresses


def email_desk_summary(recall: Recall, practices: list[Practice]) -> None:
    queue_email(
        kind="recall.desk",
        to=current_app.config["CUSTOMER_CARE_EMAIL"],
        subject=f"Recall {recall.number} notified to {plural(len(practices), 'practice')} ({recall.product.name})",
        template="recall_desk",
        recall=recall,
        practices=practices,
        link=external_url("staff.recall", recall_id=recall.id),
    )
