"""A practice's delivery addresses, kept by its owners: add one (never a PO box),
choose the default, remove one. Orders copy the address they ship to, so removing an address
never changes an order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shop.core.db import hold, unit_of_work
from shop.errors import NotEligible, NotFound
from shop.extensions import db
from shop.practices.members import is_owner
from shop.practices.models import Address, Practice, looks_like_po_box

if TYPE_CHECKING:
    from shop.accounts.models import User

MAX_ADDRESSES = 20


@dataclass(frozen=True)
class AddressDetails:
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""
    region: str = ""


def new_address(details: AddressDetails, *, is_default: bool = False) -> Address:
    """An address row from what was typed (or from a practice's details, which carry the same
    fields); not added to any practice yet."""
    return Address(
        line1=details.line1.strip(),
        line2=details.line2.strip(),
        city=details.city.strip(),
        region=details.region.strip(),
        postcode=details.postcode.strip(),
        country=details.country,
        is_default=is_default,
    )


def _practice_of(user: User):
    if not is_owner(user):
        raise NotEligible("Only an owner of the practice can change its addresses. Ask your practice's owner.")
    return user.practice


def _own(user: User, address_id: int) -> Address:
    practice = _practice_of(user)
    address = db.session.get(Address, address_id)
    if address is None or address.practice_id != practice.id:
        raise NotFound("There is no such address.")
    return address


def add_address(user: User, details: AddressDetails, *, make_default: bool = False) -> Address:
    """Raises NotEligible for a PO box or a practice that already has MAX_ADDRESSES."""
    practice = _practice_of(user)
    if looks_like_po_box(f"{details.line1} {details.line2}"):
        raise NotEligible("Give a street address: we cannot deliver injectables to a PO box.", field="line1")
    if len(practice.addresses) >= MAX_ADDRESSES:
        raise NotEligible(f"A practice can keep at most {MAX_ADDRESSES} addresses; remove one first.")
    with unit_of_work():
        address = new_address(details)
        practice.addresses.append(address)
        db.session.flush()
        if make_default or not any(a.is_default for a in practice.addresses if a is not address):
            _set_default(practice, address)
    return address


def make_default(user: User, address_id: int) -> Address:
    address = _own(user, address_id)
    with unit_of_work():
        _set_default(address.practice, address)
    return address


def _set_default(practice, chosen: Address) -> None:
    for address in practice.addresses:
        address.is_default = address.id == chosen.id


def remove_address(user: User, address_id: int) -> None:
    """Remove an address; the last one stays (orders need somewhere to go). Two removals at the
    same moment are taken one after the other, so they can never remove the last two."""
    with unit_of_work():
        practice = _practice_of(user)
        hold(Practice.name, practice.id)
        db.session.expire_all()  # what was read before the lock may be out of date now
        address = _own(user, address_id)
        if len(practice.addresses) <= 1:
            raise NotEligible("This is the practice's only address; add another before removing it.")
        was_default = address.is_default
        practice.addresses.remove(address)
        db.session.flush()
        if was_default:
            _set_default(practice, practice.addresses[0])
