"""Importing a catalogue CSV file: a plan first, then all of it or nothing.

`plan` reads every row (csv_rows), checks the rows against each other (a SKU or GTIN twice, a
product whose columns differ between its rows) and against the catalogue (a SKU of another
product, a GTIN already given), and says of each row whether it creates, updates, leaves
unchanged or is rejected, without writing anything. `apply` plans again inside one transaction
and writes the plan only if no row is rejected, so applying the same file twice changes nothing
the second time. Stock in a file is a counted stock: a difference is a count in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop import clock
from shop.accounts.models import User
from shop.catalogue import editing, stock, variant_editing
from shop.catalogue.csv_format import COLUMNS, MARKETS
from shop.catalogue.csv_rows import Names, ParsedRow, parse_row
from shop.catalogue.editing import Clearance, ProductDetails
from shop.catalogue.models import Product, ProductStatus, Variant
from shop.catalogue.variant_editing import VariantDetails
from shop.core import audit
from shop.extensions import db

CHUNK = 500
PRODUCT_FIELD_COLUMNS = {
    "name": "product_name",
    "brand_id": "brand",
    "category_id": "category",
    "prescription_only": "prescription_only",
    "ingredient_ids": "ingredients",
    "area_ids": "treatment_areas",
    "clearances": "US_status",
    "summary": "summary",
    "description": "description",
    "composition": "composition",
    "technique": "technique",
    "contraindications": "contraindications",
}


@dataclass
class Outcome:
    number: int
    action: str  # create, update, unchanged, rejected
    what: str
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Plan:
    file_problems: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    products: dict[str, Product] = field(default_factory=dict)  # those that exist, by slug

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0, "rejected": 0}
        for outcome in self.outcomes:
            counts[outcome.action] += 1
        return counts

    @property
    def applicable(self) -> bool:
        return not self.file_problems and bool(self.outcomes) and not self.counts["rejected"]


def product_details_of(product: Product) -> ProductDetails:
    clearances = []
    for market in MARKETS:
        status = product.status_in(market)
        clearances.append(
            Clearance(market, status.category, status.note, status.sale_permitted)
            if status
            else Clearance(market, None, "", False)
        )
    return ProductDetails(
        name=product.name,
        brand_id=product.brand_id,
        category_id=product.category_id,
        summary=product.summary,
        description=product.description,
        composition=product.composition,
        technique=product.technique,
        contraindications=product.contraindications,
        prescription_only=product.prescription_only,
        ingredient_ids=tuple(sorted(i.id for i in product.ingredients)),
        area_ids=tuple(sorted(a.id for a in product.treatment_areas)),
        clearances=tuple(clearances),
    )


def variant_details_of(variant: Variant) -> VariantDetails:
    return VariantDetails(
        sku=variant.sku,
        gtin=variant.gtin or "",
        label=variant.label,
        pack_size=variant.pack_size,
        price_cents=variant.price_cents,
        contains_lidocaine=variant.contains_lidocaine,
        reorder_level=variant.reorder_level,
        active=variant.active,
        breaks=tuple((b.min_quantity, b.unit_price_cents) for b in variant.price_breaks),
    )


def _chunks(values: list) -> list[list]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _existing(slugs: list[str], skus: list[str], gtins: list[str]):
    products, variants, by_gtin = {}, {}, {}
    for chunk in _chunks(slugs):
        query = select(Product).where(Product.slug.in_(chunk))
        for product in db.session.scalars(
            query.options(
                selectinload(Product.ingredients),
                selectinload(Product.treatment_areas),
                selectinload(Product.regulatory_statuses),
                selectinload(Product.variants).selectinload(Variant.price_breaks),
            )
        ):
            products[product.slug] = product
    for chunk in _chunks(skus):
        for variant in db.session.scalars(
            select(Variant).where(Variant.sku.in_(chunk)).options(selectinload(Variant.price_breaks))
        ):
            variants[variant.sku] = variant
    for chunk in _chunks(gtins):
        for variant in db.session.scalars(select(Variant).where(Variant.gtin.in_(chunk))):
            by_gtin[variant.gtin] = variant
    return products, variants, by_gtin


def plan(header: list[str], rows: list[list[str]], progress: Callable[[int], None] = lambda _n: None) -> Plan:
    result = Plan()
    unknown = [name for name in header if name not in COLUMNS]
    # Every column of the export: a column left out would read as empty cells and clear what
    # the catalogue holds there.
    missing = [name for name in COLUMNS if name not in header]
    if unknown:
        result.file_problems.append(f"Unknown columns: {', '.join(unknown)}. Use the columns of the export.")
    if missing:
        result.file_problems.append(f"Missing columns: {', '.join(missing)}.")
    if not rows:
        result.file_problems.append("The file has a header but no rows.")
    if result.file_problems:
        return result
    names = Names()
    for index, cells in enumerate(rows):
        result.rows.append(parse_row(index + 2, dict(zip(header, cells, strict=False)), names))
        if index % CHUNK == CHUNK - 1:
            progress(index + 1)
    _check_together(result.rows)
    products, variants, by_gtin = _existing(
        sorted({r.slug for r in result.rows}),
        sorted({r.variant.sku for r in result.rows if r.variant}),
        sorted({r.variant.gtin for r in result.rows if r.variant and r.variant.gtin}),
    )
    result.products = products
    seen_products: set[str] = set()
    for row in result.rows:
        result.outcomes.append(_outcome(row, products, variants, by_gtin, seen_products))
    progress(len(rows))
    return result


def _check_together(rows: list[ParsedRow]) -> None:
    first_of_product: dict[str, ParsedRow] = {}
    sku_rows: dict[str, int] = {}
    gtin_rows: dict[str, int] = {}
    active_variant: dict[str, bool] = {}
    for row in rows:
        first = first_of_product.setdefault(row.slug, row)
        if first is not row and (first.product != row.product or first.status != row.status):
            column = next(
                (
                    PRODUCT_FIELD_COLUMNS.get(name, name)
                    for name in PRODUCT_FIELD_COLUMNS
                    if getattr(first.product, name) != getattr(row.product, name)
                ),
                "status",
            )
            row.problems.append((column, f"The product's columns differ from row {first.number}."))
        if row.variant:
            other = sku_rows.setdefault(row.variant.sku, row.number)
            if other != row.number:
                row.problems.append(("sku", f"SKU {row.variant.sku} is also on row {other}."))
            if row.variant.gtin:
                other = gtin_rows.setdefault(row.variant.gtin, row.number)
                if other != row.number:
                    row.problems.append(("gtin", f"This GTIN is also on row {other}."))
            active_variant[row.slug] = active_variant.get(row.slug, False) or row.variant.active
    for slug, first in first_of_product.items():
        if first.status == ProductStatus.ACTIVE and not active_variant.get(slug):
            first.problems.append(("status", "An active product needs at least one sold variant in the file."))


def _outcome(row: ParsedRow, products, variants, by_gtin, seen: set[str]) -> Outcome:
    product = products.get(row.slug)
    what = f"{row.product.name}" + (f" ({row.variant.sku})" if row.variant else "")
    if row.variant:
        owner = variants.get(row.variant.sku)
        if owner is not None and (product is None or owner.product_id != product.id):
            row.problems.append(("sku", f"SKU {row.variant.sku} belongs to another product ({owner.product.name})."))
        holder = by_gtin.get(row.variant.gtin) if row.variant.gtin else None
        if holder is not None and holder.sku != row.variant.sku:
            row.problems.append(("gtin", f"This GTIN is given to {holder.sku} already."))
    moved = product is not None and row.status and row.status != product.status
    if moved and row.status not in editing.NEXT_STATUSES[product.status]:
        row.problems.append(
            ("status", f"A {product.status.label.lower()} product cannot become {row.status.label.lower()}.")
        )
    if row.problems:
        return Outcome(row.number, "rejected", what, row.problems)
    first_row = row.slug not in seen
    seen.add(row.slug)
    row.product_changes = first_row and (
        product is None or product_details_of(product) != row.product or product.status != row.status
    )
    variant = variants.get(row.variant.sku) if row.variant else None
    row.existing_variant = variant
    if row.variant and variant is not None:
        row.variant_changes = variant_details_of(variant) != row.variant
        row.stock_changes = row.stock is not None and variant.stock_on_hand != row.stock
    else:
        row.variant_changes = row.variant is not None
    if product is None or (row.variant and variant is None):
        return Outcome(row.number, "create", what)
    changed = row.product_changes or row.variant_changes or row.stock_changes
    return Outcome(row.number, "update" if changed else "unchanged", what)


def apply(staff: User, header: list[str], rows: list[list[str]], filename: str, progress=lambda _n: None) -> Plan:
    """Plan again and write it, all in the caller's transaction; nothing is written when any row
    is rejected (the plan says why)."""
    result = plan(header, rows)
    if not result.applicable:
        return result
    note = f"CSV import {filename}".strip()
    products = result.products
    # Flushed a chunk at a time, not before every statement: the rows are already checked.
    counts = []
    steps = len(result.rows) + sum(row.stock_changes for row in result.rows)

    def done(step: int) -> None:  # the progress, in rows of the file
        db.session.flush()
        progress(step * len(result.rows) // steps)

    with db.session.no_autoflush:
        for index, row in enumerate(result.rows):
            if row.product_changes:
                products[row.slug] = _write_product(staff, products.get(row.slug), row, note)
            if row.variant_changes or (row.existing_variant is None and row.variant):
                _write_variant(staff, products[row.slug], row, note)
            if row.stock_changes:
                counts.append((row.existing_variant, row.stock))
            if index % CHUNK == CHUNK - 1:
                done(index + 1)
        # Counted stock last, by variant, in the order checkouts take their rows, so that an
        # import and a checkout never wait on each other in a circle.
        for index, (variant, counted) in enumerate(sorted(counts, key=lambda count: count[0].id)):
            stock.count_in_transaction(staff, variant, counted, reason=note)
            if index % CHUNK == CHUNK - 1:
                done(len(result.rows) + index + 1)
    db.session.flush()
    return result


def _write_product(staff: User, product: Product | None, row: ParsedRow, note: str) -> Product:
    if product is None:
        product = Product(slug=row.slug, status=row.status, created_at=clock.now())
        db.session.add(product)
        editing.apply_details(product, row.product)
        db.session.flush()
        audit.record(staff, "product.created", product, audit.changed({}, editing.snapshot(product)), note=note)
        return product
    before = {**editing.snapshot(product), "status": product.status}
    editing.apply_details(product, row.product)
    product.status = row.status
    changes = audit.changed(before, {**editing.snapshot(product), "status": product.status})
    if changes:
        audit.record(staff, "product.updated", product, changes, note=note)
    return product


def _write_variant(staff: User, product: Product, row: ParsedRow, note: str) -> None:
    variant = row.existing_variant
    if variant is None:
        variant_editing.create_in_transaction(staff, product, row.variant, stock_on_hand=row.stock or 0, note=note)
        return
    variant_editing.update_in_transaction(staff, variant, row.variant, note=note)
