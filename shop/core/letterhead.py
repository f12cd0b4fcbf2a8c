"""The supplier as its letterhead shows it, from configuration: on every page, email and document."""

from __future__ import annotations

from flask import current_app


def shop_details() -> dict[str, str]:
    """The supplier's letterhead, from configuration."""
    config = current_app.config
    return {
        "name": config["SHOP_NAME"],
        "address": config["SHOP_ADDRESS"],
        "customer_care_phone": config["CUSTOMER_CARE_PHONE"],
        "orders_phone": config["ORDERS_PHONE"],
        "fax": config["FAX_NUMBER"],
        "customer_care_email": config["CUSTOMER_CARE_EMAIL"],
        "quotes_email": config["QUOTES_DESK_EMAIL"],
        "orders_email": config["ORDERS_DESK_EMAIL"],
        "base_url": config["SHOP_BASE_URL"],
    }


def letterhead_lines(head: dict[str, str]) -> list[str]:
    """The contact lines under the supplier's name and address, as the page prints them too."""
    return [
        f"Customer care {head['customer_care_phone']} · Quotes and orders {head['orders_phone']} · Fax {head['fax']}",
        f"Quotes {head['quotes_email']} · Orders {head['orders_email']}",
        f"Customer care {head['customer_care_email']}",
    ]
