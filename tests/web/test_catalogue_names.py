"""The catalogue's names: the desk adds and renames categories, brands, ingredients and
treatment areas; one a product still uses can be renamed but not deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shop.access import Desk
from shop.catalogue.models import Brand, Category, Ingredient, TreatmentArea
from shop.core.audit import AuditEntry
from shop.extensions import db
from tests.factories import make_product, make_staff
from tests.helpers import field_error, flashes, redirect_path, reload, text


@pytest.fixture
def desk(signed_in):
    return signed_in(make_staff(desks=[Desk.CATALOGUE]))


@pytest.mark.parametrize(
    ("kind", "model"),
    [("categories", Category), ("brands", Brand), ("ingredients", Ingredient), ("areas", TreatmentArea)],
)
def test_the_desk_adds_renames_and_deletes_an_unused_name(desk, kind, model):
    added = desk.post(f"/staff/catalogue/names/{kind}", {"name": "  Peptides  Plus "})
    assert redirect_path(added) == f"/staff/catalogue/names/{kind}"
    row = db.session.scalar(select(model).where(model.name == "Peptides Plus"))
    assert row is not None and row.slug == "peptides-plus"

    desk.post(f"/staff/catalogue/names/{kind}/{row.id}", {"name": "Peptide complex"})
    assert reload(model, row.id).name == "Peptide complex"
    deleted = desk.post(f"/staff/catalogue/names/{kind}/{row.id}/delete")
    assert ("success", "“Peptide complex” is deleted.") in flashes(desk.get(redirect_path(deleted)))
    assert db.session.scalar(select(model).where(model.id == row.id)) is None
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    table = model.__tablename__
    assert actions[-3:] == [f"{table}.added", f"{table}.renamed", f"{table}.deleted"]


def test_a_brand_or_category_in_use_is_renamed_but_never_deleted(desk):
    product = make_product(name="Kept", brand="Acme")
    brand_id, category_id = product.brand_id, product.category_id
    for kind, row_id in (("brands", brand_id), ("categories", category_id)):
        refused = desk.post(f"/staff/catalogue/names/{kind}/{row_id}/delete")
        assert any("it can be renamed, not deleted" in m for _, m in flashes(desk.get(redirect_path(refused))))
    assert db.session.get(Brand, brand_id) is not None and db.session.get(Category, category_id) is not None
    desk.post(f"/staff/catalogue/names/brands/{brand_id}", {"name": "Acme Medical"})
    assert "Acme Medical" in text(desk.get(f"/staff/catalogue/{product.id}"))


def test_an_empty_or_taken_name_is_refused_next_to_the_field(desk):
    desk.post("/staff/catalogue/names/brands", {"name": "Zeta"})
    for name, message in (
        ("", "Give the brand's name."),
        ("zeta", "There is a brand “Zeta” already."),
        ("x" * 81, "Use at most 80 characters."),
    ):
        response = desk.post("/staff/catalogue/names/brands", {"name": name})
        assert response.status_code == 422
        assert message in field_error(response, "new-name")
    assert desk.get("/staff/catalogue/names/colours").status_code == 404
    assert desk.post("/staff/catalogue/names/brands/999999/delete").status_code == 404


def test_an_ingredient_name_cannot_hold_the_catalogue_files_list_separator(desk):
    response = desk.post("/staff/catalogue/names/ingredients", {"name": "Vitamin C; 20%"})
    assert response.status_code == 422
    assert "Leave out “;”" in field_error(response, "new-name")
