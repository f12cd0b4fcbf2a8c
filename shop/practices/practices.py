"""A practice's own details: founding one (with its first delivery address) when a clinician
applies or an operator creates an account, and its owner changing its name and phone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shop import clock
from shop.core import events
from shop.core.db import unit_of_work
from shop.errors import NotEligible
from shop.extensions import db
from shop.practices.addresses import AddressDetails, new_address
from shop.practices.members import require_owner
from shop.practices.models import Practice

if TYPE_CHECKING:
    from shop.accounts.models import User


@dataclass(frozen=True, kw_only=True)
class PracticeDetails(AddressDetails):
    """A practice as an application or an operator gives it: its name, phone and first address."""

    name: str
    phone: str


def add_practice(details: PracticeDetails) -> Practice:
    """A new practice with its first address as the default, added to the session."""
    practice = Practice(name=details.name.strip(), phone=details.phone.strip(), created_at=clock.now())
    practice.addresses.append(new_address(details, is_default=True))
    db.session.add(practice)
    return practice


def update_details(owner: User, name: str, phone: str) -> Practice:
    """The owner renames the practice or changes its phone. Orders, quotes and invoices already
    made keep the name they were made under. Raises NotEligible (not an owner, nothing changed)."""
    practice = require_owner(owner)
    wanted = {"name": name.strip(), "phone": phone.strip()}
    changes = {key: (getattr(practice, key), value) for key, value in wanted.items() if getattr(practice, key) != value}
    if not changes:
        raise NotEligible("Nothing was changed.")
    with unit_of_work():
        for key, (_before, after) in changes.items():
            setattr(practice, key, after)
        note = "; ".join(f"{key.capitalize()}: {before} → {after}" for key, (before, after) in changes.items())
        events.record_note(practice, owner, "details_changed", note, changes=changes)
    return practice
