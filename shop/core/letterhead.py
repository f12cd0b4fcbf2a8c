"""The supplier as its letterhead shows it, from configuration: on every page, email and document;
and the seller's legal details an invoice must carry."""

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


def seller_details() -> dict[str, str]:
    """The seller as an invoice or credit note names it (copied onto each when it is issued): its
    legal name and address, VAT and company registration numbers, and where to pay."""
    config = current_app.config
    return {
        "legal_name": config["SELLER_LEGAL_NAME"],
        "address": config["SELLER_ADDRESS"],
        "vat_number": config["SELLER_VAT_NUMBER"],
        "company_number": config["SELLER_COMPANY_NUMBER"],
        "bank_name": config["SELLER_BANK_NAME"],
        "iban": config["SELLER_IBAN"],
        "bic": config["SELLER_BIC"],
        "email": config["ORDERS_DESK_EMAIL"],
        "phone": config["ORDERS_PHONE"],
    }
