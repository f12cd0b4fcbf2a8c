"""Couriers cannot deliver injectables to a PO box: the check recognises the ways clinicians
write one, in English and the usual European forms, and leaves real street addresses alone."""

from __future__ import annotations

import pytest

from shop.practices.models import looks_like_po_box

PO_BOXES = [
    "PO Box 12",
    "P.O. Box 3",
    "PO-Box 12",
    "POB 12",
    "P.O.B. 12",
    "PO Box12",
    "P0 Box 12",
    "GPO Box 77",
    "Post Office Box 9",
    "Post-Office Box 4",
    "Locked Bag 5",
    "ＰＯ Ｂｏｘ １２",  # full-width letters and digits, as some keyboards type them
    "Postbus 100",
    "Postfach 9",
    "Boîte postale 7",
    "BP 123",
    "Case postale 12",
    "Apartado de correos 3",
    "Apdo. 45",
]
STREETS = [
    "12 Grand Parade",
    "4 South Mall",
    "Unit 4, Harbour Point Business Park",
    "Pobla de Vallbona 3",
    "12 Pobal Road",
    "Pope Street 4",
    "Poplar Avenue 9",
    "Boxwood Court 2",
    "BP Service Station, Main Street",
    "Postal Street 5",
]


@pytest.mark.parametrize("line", PO_BOXES)
def test_a_po_box_is_recognised_however_it_is_written(line):
    assert looks_like_po_box(line)


@pytest.mark.parametrize("line", STREETS)
def test_a_street_address_is_not_taken_for_a_po_box(line):
    assert not looks_like_po_box(line)
