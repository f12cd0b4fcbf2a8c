"""/catalogue/suggest: what the header search box offers while a person types, for those who may
see the catalogue only, in a fixed number of statements whatever the catalogue's size, and never
an error whatever is typed."""

from __future__ import annotations

import pytest

from shop.catalogue.suggestions import MOST
from tests.factories import make_applicant, make_catalogue, make_clinician, make_product
from tests.helpers import statements_during


@pytest.fixture
def clinician(signed_in):
    make_catalogue()
    return signed_in(make_clinician())


def offered(client, typed: str) -> list[tuple[str, str, str]]:
    response = client.get("/catalogue/suggest", query_string={"q": typed})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "no-store" in response.headers["Cache-Control"]  # behind the gate: never kept
    return [(s["label"], s["kind"], s["url"]) for s in response.get_json()["suggestions"]]


def test_a_brand_comes_first_then_the_products_that_match_best(clinician):
    suggestions = offered(clinician, "resty")
    assert suggestions[0] == ("Restylane", "Brand", "/catalogue?brand=restylane")
    assert ("Restylane Skinboosters Vital", "Product", "/catalogue/restylane-skinboosters-vital") in suggestions
    assert (
        "Restylane Skinboosters Vital Light",
        "Product",
        "/catalogue/restylane-skinboosters-vital-light",
    ) in suggestions


def test_an_sku_being_typed_is_suggested_with_its_product(clinician):
    suggestions = offered(clinician, "kyb-4")
    assert suggestions[0] == ("KYB-4X2", "SKU", "/catalogue/kybella")
    assert ("Kybella", "Product", "/catalogue/kybella") in suggestions


def test_accents_are_not_needed_and_the_list_is_short(clinician):
    assert ("Juvéderm", "Brand", "/catalogue?brand=juvederm") in offered(clinician, "juved")
    assert len(offered(clinician, "a")) <= MOST
    assert offered(clinician, "qqqzzz") == []


@pytest.mark.parametrize("typed", ["", " ", "%", "\x00", "a" * 5000, "' OR 1=1 --", '"*', "NEAR(", "a:*|b", "注射"])
def test_nothing_a_person_types_breaks_it(clinician, typed):
    assert isinstance(offered(clinician, typed), list)


def test_only_those_who_may_see_the_catalogue_get_suggestions(client, signed_in):
    make_product(name="Aurora Glow")
    anonymous = client.get("/catalogue/suggest?q=auro")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    applicant = signed_in(make_applicant())
    assert applicant.get("/catalogue/suggest?q=auro").status_code in (302, 403)
    assert "Aurora" not in applicant.get("/catalogue/suggest?q=auro").get_data(as_text=True)


def test_the_suggestions_cost_the_same_statements_at_any_catalogue_size(signed_in):
    make_product(name="Aurora Glow", sku="AUR-1")
    clinician = signed_in(make_clinician())
    small = statements_during(lambda: offered(clinician, "aur"))
    for n in range(30):
        make_product(name=f"Aurora Glow {n}", sku=f"AUR-{n + 2}")
    assert statements_during(lambda: offered(clinician, "aur")) == small
