"""Reading what a barcode scanner typed: the GS1 element strings on a pack (GS1 DataMatrix or
GS1-128), as a keyboard-wedge scanner types them, with the group separator (ASCII 29) between
variable-length fields, or in the bracketed form printed under the code ("(01)…(17)…(10)…").

biip does the parsing; this module only says what the shop needs from it (GTIN, expiry, lot)
and turns what cannot be read into a message for the person at the desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import biip
from biip.gs1_messages import GS1Message
from stdnum import ean

from shop.errors import LotRefusal

MAX_SCAN_LENGTH = 200
GROUP_SEPARATOR = "\x1d"


@dataclass(frozen=True)
class Scan:
    gtin: str  # 14 digits
    expires_on: date | None
    lot_number: str | None


def gtin14(number: str) -> str:
    """A GTIN-8/12/13/14 as the 14 digits GS1 element strings carry."""
    return number.zfill(14)


def read(text: str) -> Scan:
    """The GTIN (01), expiry (17) and lot (10) in a scanned string; raises LotRefusal (on the
    `scan` field) when the string is not a GS1 code with a valid GTIN."""
    value = (text or "").strip()
    if not value:
        raise LotRefusal("Scan the code on the pack, or type the lot and expiry below.", field="scan")
    if len(value) > MAX_SCAN_LENGTH or not value.replace(GROUP_SEPARATOR, "").isprintable():
        raise LotRefusal("That is not a GS1 code: scan the DataMatrix or GS1-128 code on the pack.", field="scan")
    not_gs1 = LotRefusal("That is not a GS1 code: scan the DataMatrix or GS1-128 code on the pack.", field="scan")
    try:
        message = GS1Message.parse_hri(value) if value.startswith("(") else biip.parse(value).gs1_message
    except (biip.BiipException, ValueError, IndexError):  # biip may fail on a bare symbology prefix
        raise not_gs1 from None
    if message is None or not message.element_strings:
        raise not_gs1
    fields = {element.ai.ai: element for element in message.element_strings}
    if "01" not in fields:
        raise LotRefusal("The code has no GTIN (01): scan the code that identifies the product.", field="scan")
    gtin = fields["01"].value
    if not ean.is_valid(gtin):
        raise LotRefusal(f"The GTIN {gtin} in the code has a wrong check digit: scan it again.", field="scan")
    expiry = fields.get("17")
    if expiry is not None and expiry.date is None:
        raise LotRefusal(f"The expiry {expiry.value} in the code is not a date: scan it again.", field="scan")
    lot = fields.get("10")
    return Scan(
        gtin=gtin14(gtin),
        expires_on=expiry.date if expiry is not None else None,
        lot_number=lot.value if lot is not None else None,
    )
