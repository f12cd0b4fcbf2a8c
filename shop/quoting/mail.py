"""The emails of the quote flow, through the outbox. Every subject and link carries the quote
number; the sent quote travels as a PDF."""

from __future__ import annotations

from flask import current_app

from shop.accounts.models import User
from shop.core.outbox import queue_email
from shop.quoting.document import pdf_file_name, quote_pdf
from shop.quoting.models import Quote, QuoteVersion
from shop.urls import external_url


def _links(quote: Quote) -> dict[str, str]:
    return {
        "quote_link": external_url("quotes.detail", number=quote.number),
        "staff_link": external_url("staff.quote", number=quote.number),
    }


def _to_desk(quote: Quote, kind: str, subject: str, template: str, *, sender: User, **context) -> None:
    """To the quotes desk, with replies going to the clinician who acted (`sender`)."""
    queue_email(
        kind=kind,
        to=current_app.config["QUOTES_DESK_EMAIL"],
        reply_to=sender.email,
        subject=f"{quote.number}: {subject}",
        template=template,
        quote=quote,
        **_links(quote),
        **context,
    )


def _to_clinician(quote: Quote, kind: str, subject: str, template: str, attachments=(), **context) -> None:
    queue_email(
        kind=kind,
        to=quote.contact.email,
        reply_to=current_app.config["QUOTES_DESK_EMAIL"],
        subject=f"{subject} ({quote.number})",
        template=template,
        attachments=attachments,
        quote=quote,
        **_links(quote),
        **context,
    )


def email_quote_requested(quote: Quote) -> None:
    _to_desk(
        quote,
        "quote.requested.desk",
        f"quote request from {quote.practice.name}",
        "quote_requested_desk",
        sender=quote.contact,
    )
    _to_clinician(quote, "quote.requested", "We received your quote request", "quote_requested")


def email_quote_sent(quote: Quote, version: QuoteVersion) -> None:
    pdf = quote_pdf(quote, version)
    _to_clinician(
        quote,
        "quote.sent",
        f"Your quote{'' if version.number == 1 else ' (revised, v' + str(version.number) + ')'}",
        "quote_sent",
        attachments=((pdf_file_name(quote, version), "application/pdf", pdf),),
        version=version,
    )


def email_comment(quote: Quote, author: User, body: str) -> None:
    if author.is_staff:
        _to_clinician(
            quote, "quote.comment", "A message from the quotes desk", "quote_comment", author=author, body=body
        )
    else:
        _to_desk(
            quote,
            "quote.comment.desk",
            f"message from {author.full_name}",
            "quote_comment",
            sender=author,
            author=author,
            body=body,
        )


def email_changes_requested(quote: Quote, author: User, message: str) -> None:
    _to_desk(
        quote,
        "quote.changes_requested",
        f"changes requested by {author.full_name}",
        "quote_comment",
        sender=author,
        author=author,
        body=message,
    )


def email_quote_declined(quote: Quote, clinician: User, reason: str) -> None:
    _to_desk(
        quote,
        "quote.declined",
        f"declined by {quote.practice.name}",
        "quote_declined",
        sender=clinician,
        clinician=clinician,
        reason=reason,
    )


def email_quote_accepted(quote: Quote, version: QuoteVersion, clinician: User) -> None:
    """The quotes desk and the orders desk both hear of an acceptance, and who accepted."""
    for desk, kind in (("QUOTES_DESK_EMAIL", "quote.accepted.quotes"), ("ORDERS_DESK_EMAIL", "quote.accepted.orders")):
        queue_email(
            kind=kind,
            to=current_app.config[desk],
            reply_to=clinician.email,
            subject=f"{quote.number}: v{version.number} accepted by {quote.practice.name}",
            template="quote_accepted",
            quote=quote,
            version=version,
            clinician=clinician,
            **_links(quote),
        )


def email_quote_expiring(quote: Quote, version: QuoteVersion) -> None:
    _to_clinician(quote, "quote.expiring", "Your quote expires soon", "quote_expiring", version=version)
