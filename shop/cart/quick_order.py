"""Filling the cart in bulk: a quick order (pasted `SKU quantity` lines or an uploaded CSV,
read line by line) and reorder (the lines of a past order). Each line is added on its own, and
a report says what was added and why anything was not."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete

from shop import clock
from shop.accounts.models import User
from shop.cart.models import QuickOrderReport
from shop.cart.services import add_to_cart, require_buyer
from shop.core.db import unit_of_work
from shop.errors import NotEligible, ShopError
from shop.extensions import db

MAX_QUICK_ORDER_LINES = 200
SKU = re.compile(r"[A-Z0-9][A-Z0-9._\-/]{0,39}")
SEPARATORS = re.compile(r"[\s,;]+")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HEADER_WORDS = {"sku", "code", "quantity", "qty", "quantities", "packs", "boxes", "units"}
NOT_UNDERSTOOD = "Not understood: write the SKU, then the quantity."
BAD_QUANTITY = "Not understood: the quantity must be a whole number of packs."


def parse_quick_order(text: str) -> list[QuickLine]:
    """One QuickLine per non-empty line, numbered as the clinician counts lines.

    Spaces, tabs, commas or semicolons separate SKU and quantity, so a CSV export or a
    spreadsheet paste works; quotes around fields, lowercase SKUs, `#` comments and a header
    line (such as `SKU,Quantity`) are accepted."""
    parsed: list[QuickLine] = []
    seen_content = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = CONTROL.sub("", raw).replace("\ufeff", "").strip()
        if not line or line.startswith("#"):
            continue
        parts = [part for part in (p.strip("\"'") for p in SEPARATORS.split(line)) if part]
        first, seen_content = not seen_content, True
        if first and _is_header(parts):
            continue
        shown = line if len(line) <= 120 else line[:119] + "…"
        if len(parts) != 2 or not SKU.fullmatch(parts[0].upper()):
            parsed.append(QuickLine(number, shown, problem=NOT_UNDERSTOOD))
        elif not (parts[1].isascii() and parts[1].isdigit()) or len(parts[1]) > 6:
            parsed.append(QuickLine(number, shown, problem=BAD_QUANTITY))
        else:
            parsed.append(QuickLine(number, shown, sku=parts[0].upper(), quantity=int(parts[1])))
    return parsed


def _is_header(parts: list[str]) -> bool:
    return not any(part.isdigit() for part in parts) and any(part.lower() in HEADER_WORDS for part in parts)


@dataclass(frozen=True)
class ReportLine:
    line_number: int
    text: str
    added: bool
    message: str


@dataclass(frozen=True)
class QuickLine:
    """One line of a quick order as the clinician wrote it: an SKU and a quantity, or the
    reason it was not understood."""

    line_number: int
    text: str
    sku: str | None = None
    quantity: int | None = None
    problem: str | None = None


def quick_order(user: User, parsed: Sequence[QuickLine]) -> list[ReportLine]:
    """Add every understood, available line to the cart, each on its own; report on each line.
    Raises NotEligible for more than MAX_QUICK_ORDER_LINES lines (then nothing is added)."""
    require_buyer(user)
    if len(parsed) > MAX_QUICK_ORDER_LINES:
        raise NotEligible(
            f"That is {len(parsed)} lines; a quick order takes at most {MAX_QUICK_ORDER_LINES} at a time. "
            "Split it into smaller parts.",
            field="lines",
        )
    return [
        ReportLine(item.line_number, item.text, False, item.problem)
        if item.problem
        else _try_add(user, item.line_number, item.text, item.sku, item.quantity)
        for item in parsed
    ]


def _try_add(user: User, number: int, raw: str, sku: str, quantity: int) -> ReportLine:
    try:
        line = add_to_cart(user, sku, quantity)
    except ShopError as error:
        return ReportLine(number, raw, False, error.message)
    return ReportLine(number, raw, True, f"Added {quantity} × {line.variant.product.name} ({line.variant.sku}).")


class PastLine(Protocol):
    """A line of an earlier order, as much of it as ordering it again needs."""

    sku: str
    quantity: int
    product_name: str
    variant_id: int | None


def reorder(user: User, lines: Iterable[PastLine]) -> list[ReportLine]:
    """Put the lines of a past order back in the cart, reporting what is no longer available."""
    report = []
    for index, line in enumerate(lines, start=1):
        text = f"{line.sku} × {line.quantity}"
        if line.variant_id is None:
            report.append(
                ReportLine(index, text, False, f"{line.product_name} was quoted specially; ask the quotes desk again.")
            )
        else:
            report.append(_try_add(user, index, text, line.sku, line.quantity))
    return report


def keep_report(user: User, report: list[ReportLine]) -> int:
    """Keep the report of a quick order for the page shown after it (the clinician's earlier one
    goes); returns its id."""
    with unit_of_work():
        db.session.execute(delete(QuickOrderReport).where(QuickOrderReport.user_id == user.id))
        row = QuickOrderReport(
            user_id=user.id,
            created_at=clock.now(),
            lines=[[line.line_number, line.text, line.added, line.message] for line in report],
        )
        db.session.add(row)
        db.session.flush()
        return row.id


def kept_report(user: User, report_id: int) -> list[ReportLine] | None:
    """The clinician's own kept report, or None (another's, or replaced by a newer one)."""
    row = db.session.get(QuickOrderReport, report_id)
    if row is None or row.user_id != user.id:
        return None
    return [ReportLine(number, text, added, message) for number, text, added, message in row.lines]
