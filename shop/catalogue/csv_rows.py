"""Reading one row of a catalogue CSV file: every cell checked, each problem named by its column.

The catalogue's names (brands, categories, ingredients, treatment areas) are looked up in a
`Names` read once per file, so checking a row sends no query."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import select

from shop.catalogue.csv_format import LIST_SEPARATOR, MARKETS
from shop.catalogue.editing import CLEARED_CATEGORIES, Clearance, ProductDetails
from shop.catalogue.models import Brand, Category, Ingredient, ProductStatus, RegulatoryCategory, TreatmentArea
from shop.catalogue.stock import MAX_ADJUSTMENT
from shop.catalogue.variant_editing import VariantDetails, check_breaks, normal_gtin, normal_sku
from shop.core.limits import MAX_LINE_QUANTITY, SKU_LENGTH
from shop.errors import CatalogueRefusal
from shop.extensions import db

MAX_PRICE_CENTS = 1_000_000_000
MAX_REORDER_LEVEL = 100_000
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}
LENGTHS = {"product_name": 160, "summary": 300, "option": 120, "pack_size": 120}
TEXTS = ("summary", "description", "composition", "technique", "contraindications")


class Names:
    """The catalogue's names, in lower case, to their ids."""

    def __init__(self) -> None:
        def by_name(model):
            return {name.lower(): id_ for id_, name in db.session.execute(select(model.id, model.name))}

        self.brands = by_name(Brand)
        self.categories = by_name(Category)
        self.ingredients = by_name(Ingredient)
        self.areas = by_name(TreatmentArea)


@dataclass
class ParsedRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    slug: str = ""
    product: ProductDetails | None = None
    status: ProductStatus | None = None
    variant: VariantDetails | None = None
    stock: int | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    # What the plan found against the catalogue (csv_import fills these in).
    existing_variant: object = None
    product_changes: bool = False
    variant_changes: bool = False
    stock_changes: bool = False


def _slug_of(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower())[:100].strip("-")


def parse_row(number: int, cells: dict[str, str], names: Names) -> ParsedRow:
    row = ParsedRow(number)

    def get(column: str) -> str:
        return "".join(ch for ch in cells.get(column, "") if ch.isprintable() or ch in "\n\t").strip()

    def problem(column: str, reason: str) -> None:
        row.problems.append((column, reason))

    def flag(column: str) -> bool:
        value = get(column).lower()
        if value not in YES | NO:
            problem(column, "Write yes or no.")
        return value in YES

    def looked_up(column: str, table: dict[str, int], what: str) -> int | None:
        value = get(column)
        if not value:
            problem(column, f"Give the {what}.")
            return None
        found = table.get(value.lower())
        if found is None:
            problem(column, f"Unknown {what} “{value}”: add it in the back office first, or correct the name.")
        return found

    def listed(column: str, table: dict[str, int], what: str) -> tuple[int, ...]:
        ids = []
        for name in (part.strip() for part in get(column).split(LIST_SEPARATOR)):
            if name and name.lower() not in table:
                problem(column, f"Unknown {what} “{name}”.")
            elif name:
                ids.append(table[name.lower()])
        return tuple(sorted(set(ids)))

    for column, limit in LENGTHS.items():
        if len(get(column)) > limit:
            problem(column, f"Use at most {limit} characters.")
    name = get("product_name")
    if not name:
        problem("product_name", "Give the product's name.")
    row.slug = get("product_slug").lower() or _slug_of(name)
    if get("product_slug") and not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", row.slug) or len(row.slug) > 120:
        problem("product_slug", "Use lower-case letters, digits and hyphens only, at most 120.")
    elif name and not row.slug:
        problem("product_slug", "Give the product's slug (its address): the name has no letters a slug can use.")
    status_text = get("status").lower() or ProductStatus.DRAFT.value
    if status_text not in {s.value for s in ProductStatus}:
        problem("status", "Write draft, active or retired.")
    else:
        row.status = ProductStatus(status_text)
    clearances = []
    for market in MARKETS:
        category = _category(get(f"{market}_status"))
        cleared = flag(f"{market}_cleared")
        if category is False:
            problem(f"{market}_status", "Write fda_approved, ce_marked, not_approved, not_marketed or leave it empty.")
            continue
        if cleared and category not in CLEARED_CATEGORIES:
            problem(f"{market}_cleared", "Only an FDA-approved or CE-marked product can be cleared for sale.")
        clearances.append(Clearance(market, category, get(f"{market}_note"), cleared))
    row.product = ProductDetails(
        name=name,
        brand_id=looked_up("brand", names.brands, "brand"),
        category_id=looked_up("category", names.categories, "category"),
        prescription_only=flag("prescription_only"),
        ingredient_ids=listed("ingredients", names.ingredients, "ingredient"),
        area_ids=listed("treatment_areas", names.areas, "treatment area"),
        clearances=tuple(clearances),
        **{text: get(text) for text in TEXTS},
    )
    if get("sku"):
        _parse_variant(row, get, problem, flag)
    elif any(get(column) for column in ("gtin", "option", "pack_size", "price", "stock")):
        problem("sku", "Give the SKU of this variant.")
    return row


def _category(text: str):
    if not text:
        return None
    for category in RegulatoryCategory:
        if text.lower() in (category.value, category.label.lower()):
            return category
    return False


def _parse_variant(row: ParsedRow, get, problem, flag) -> None:
    sku = normal_sku(get("sku"))
    if len(sku) > SKU_LENGTH or not re.fullmatch(r"[A-Z0-9][A-Z0-9._/-]*", sku):
        problem("sku", "Use letters, digits and - . / _ only, at most 40.")
    gtin = ""
    if get("gtin"):
        try:
            gtin = normal_gtin(get("gtin"))
        except CatalogueRefusal as refusal:
            problem("gtin", refusal.message)
    for column in ("option", "pack_size"):
        if not get(column):
            problem(column, "Give this for the variant.")
    price = _money(get("price"), "price", problem, required=True)
    breaks = []
    for part in (p.strip() for p in get("volume_prices").split(LIST_SEPARATOR)):
        if not part:
            continue
        quantity, _, each = part.partition(":")
        cents = _money(each.strip(), "volume_prices", problem, required=True)
        if not re.fullmatch(r"[0-9]{1,4}", quantity.strip()) or not 2 <= int(quantity) <= MAX_LINE_QUANTITY:
            problem("volume_prices", f"Write each volume price as quantity:price, from 2 to {MAX_LINE_QUANTITY} packs.")
        elif cents is not None:
            breaks.append((int(quantity), cents))
    if price is not None and breaks:
        try:
            check_breaks(price, breaks)
        except CatalogueRefusal as refusal:
            problem("volume_prices", refusal.message)
    reorder = _whole(get("reorder_level") or "10", "reorder_level", MAX_REORDER_LEVEL, problem)
    # An empty stock cell leaves the stock as it is (a new variant starts with none).
    row.stock = _whole(get("stock"), "stock", MAX_ADJUSTMENT, problem) if get("stock") else None
    row.variant = VariantDetails(
        sku=sku,
        gtin=gtin,
        label=get("option"),
        pack_size=get("pack_size"),
        price_cents=price or 0,
        contains_lidocaine=flag("lidocaine"),
        reorder_level=reorder or 0,
        active=flag("variant_active") if get("variant_active") else True,
        breaks=tuple(breaks),
    )


def _money(text: str, column: str, problem, *, required: bool) -> int | None:
    if not text:
        if required:
            problem(column, "Give the price, such as 120.00.")
        return None
    match = re.fullmatch(r"([0-9]+)(?:[.,]([0-9]+))?", text)
    if match is None:
        problem(column, f"“{text}” is not an amount such as 120.00.")
        return None
    units, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > 2:
        problem(column, "Give the amount in cents at most, such as 120.50.")
        return None
    if len(units.lstrip("0")) > 8:
        problem(column, "Give an amount from 0 to 10,000,000.")
        return None
    cents = int(units) * 100 + int(fraction.ljust(2, "0"))
    if cents > MAX_PRICE_CENTS:
        problem(column, "Give an amount from 0 to 10,000,000.")
        return None
    return cents


def _whole(text: str, column: str, limit: int, problem) -> int | None:
    if re.fullmatch(r"-[0-9]+", text):
        problem(column, "Cannot be negative.")
        return None
    if not re.fullmatch(r"[0-9]+", text):
        problem(column, "Give a whole number.")
        return None
    value = int(text) if len(text) < 12 else limit + 1
    if value > limit:
        problem(column, f"At most {limit:,}.")
        return None
    return value
