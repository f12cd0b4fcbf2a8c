"""Reading a quick order: pasted `SKU quantity` lines or an uploaded CSV, into QuickLines."""

from __future__ import annotations

import re

from shop.services.cart import QuickLine

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
