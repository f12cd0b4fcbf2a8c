"""The catalogue's names: categories, brands, ingredients and treatment areas. The desk adds and
renames them; one still used by a product cannot be deleted, only renamed, so that no product
ever loses its brand or category."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from shop.accounts.models import User
from shop.catalogue.csv_format import LIST_SEPARATOR
from shop.catalogue.editing import require_desk
from shop.catalogue.models import (
    Brand,
    Category,
    Ingredient,
    Product,
    TreatmentArea,
    product_ingredients,
    product_treatment_areas,
)
from shop.core import audit
from shop.core.db import unit_of_work
from shop.errors import CatalogueRefusal
from shop.extensions import db

NAME_LENGTH = 80


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    singular: str
    plural: str
    use_column: object  # the column that points at it from a product, or from a link table
    listed: bool = False  # several to a product, joined in one cell of the catalogue file

    def usage(self) -> dict[int, int]:
        """How many products use each name."""
        return dict(db.session.execute(select(self.use_column, func.count()).group_by(self.use_column)).all())


KINDS = {
    "categories": Kind("categories", Category, "category", "categories", Product.category_id),
    "brands": Kind("brands", Brand, "brand", "brands", Product.brand_id),
    "ingredients": Kind(
        "ingredients", Ingredient, "ingredient", "ingredients", product_ingredients.c.ingredient_id, listed=True
    ),
    "areas": Kind(
        "areas", TreatmentArea, "treatment area", "treatment areas", product_treatment_areas.c.area_id, listed=True
    ),
}


def rows_of(kind: Kind) -> list:
    return list(db.session.scalars(select(kind.model).order_by(kind.model.name)))


def _checked(kind: Kind, name: str, row=None) -> str:
    name = " ".join(name.split())
    if not name:
        raise CatalogueRefusal(f"Give the {kind.singular}'s name.", field="name")
    if len(name) > NAME_LENGTH:
        raise CatalogueRefusal(f"Use at most {NAME_LENGTH} characters.", field="name")
    if kind.listed and LIST_SEPARATOR in name:
        # A product's ingredients and areas are one cell of the catalogue file, joined with it.
        raise CatalogueRefusal(
            f"Leave out “{LIST_SEPARATOR}”: the catalogue file separates names with it.", field="name"
        )
    other = db.session.scalar(select(kind.model).where(func.lower(kind.model.name) == name.lower()))
    if other is not None and other is not row:
        raise CatalogueRefusal(f"There is a {kind.singular} “{other.name}” already.", field="name")
    return name


def _free_slug(kind: Kind, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower())
    base = base[:70].strip("-") or kind.key
    taken = set(db.session.scalars(select(kind.model.slug).where(kind.model.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add(staff: User, kind: Kind, name: str):
    require_desk(staff)
    name = _checked(kind, name)
    with unit_of_work(conflict=CatalogueRefusal(f"That {kind.singular} was just added.", field="name")):
        row = kind.model(slug=_free_slug(kind, name), name=name)
        db.session.add(row)
        db.session.flush()
        audit.record(staff, f"{kind.model.__tablename__}.added", row, {"name": (None, name)}, label=_label(kind, name))
    return row


def rename(staff: User, kind: Kind, row, name: str) -> None:
    """A new name; the address of the catalogue's filter (its slug) stays, so links keep working."""
    require_desk(staff)
    name = _checked(kind, name, row)
    before = row.name
    if before == name:
        return
    with unit_of_work():
        row.name = name
        audit.record(
            staff, f"{kind.model.__tablename__}.renamed", row, {"name": (before, name)}, label=_label(kind, name)
        )


def delete(staff: User, kind: Kind, row) -> None:
    require_desk(staff)
    used = kind.usage().get(row.id, 0)
    if used:
        raise CatalogueRefusal(
            f"“{row.name}” is used by {used} product{'' if used == 1 else 's'}: it can be renamed, not deleted."
        )
    with unit_of_work():
        audit.record(
            staff, f"{kind.model.__tablename__}.deleted", row, {"name": (row.name, None)}, label=_label(kind, row.name)
        )
        db.session.delete(row)


def _label(kind: Kind, name: str) -> str:
    return f"{kind.singular.capitalize()} {name}"
