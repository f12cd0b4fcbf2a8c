"""Which professions may buy prescription-only products is configuration
(PRESCRIBER_PROFESSIONS, the current prescribers unless set): the compliance module follows it
on every path, and a profession the shop does not know stops the app from starting, naming it."""

from __future__ import annotations

import pytest

from shop import create_app
from shop.accounts.models import Profession, prescriber_professions
from shop.cart import services as carts
from shop.catalogue.compliance import Reason, variant_refusal
from shop.errors import NotEligible
from tests.factories import make_clinician, make_variant


@pytest.fixture
def prescribers(app, ctx, monkeypatch):
    """Set PRESCRIBER_PROFESSIONS for the app under test and the test's own context."""

    def configure(setting: str) -> None:
        for config in (app.config, ctx.config):
            monkeypatch.setitem(config, "PRESCRIBER_PROFESSIONS", setting)

    return configure


def test_the_prescribers_are_the_four_prescribing_professions_unless_configured():
    assert prescriber_professions() == (
        Profession.PHYSICIAN,
        Profession.DENTIST,
        Profession.NURSE_PRACTITIONER,
        Profession.PHYSICIAN_ASSISTANT,
    )
    assert prescriber_professions(" Dentist ,physician,, ") == (Profession.PHYSICIAN, Profession.DENTIST)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("physician,surgeon", "PRESCRIBER_PROFESSIONS: 'surgeon' is not a profession; use physician, dentist,"),
        ("doctor,nurse", "PRESCRIBER_PROFESSIONS: 'doctor', 'nurse' are not a profession; use physician,"),
        (" , ", "PRESCRIBER_PROFESSIONS: name at least one profession of physician, dentist,"),
    ],
)
def test_an_unknown_profession_stops_the_app_from_starting_with_a_message_naming_it(app_config, setting, message):
    with pytest.raises(RuntimeError) as refused:
        create_app("testing", **app_config, PRESCRIBER_PROFESSIONS=setting)
    assert message in str(refused.value)


def test_the_compliance_module_sells_prescription_only_products_to_the_configured_professions(prescribers):
    variant = make_variant("RX-1", prescription_only=True)
    nurse = make_clinician(profession=Profession.REGISTERED_NURSE)
    dentist = make_clinician(profession=Profession.DENTIST)
    physician = make_clinician(profession=Profession.PHYSICIAN)

    assert variant_refusal(variant, nurse).reason == Reason.PRESCRIPTION_ONLY
    assert variant_refusal(variant, dentist) is None

    prescribers("physician,registered_nurse")
    assert variant_refusal(variant, nurse) is None
    assert variant_refusal(variant, dentist).reason == Reason.PRESCRIPTION_ONLY
    assert variant_refusal(variant, physician) is None
    with pytest.raises(NotEligible, match="prescription-only"):
        carts.add_to_cart(dentist, "RX-1", 1)
    carts.add_to_cart(nurse, "RX-1", 1)
    assert [row.variant.sku for row in carts.view_cart(nurse).rows] == ["RX-1"]
