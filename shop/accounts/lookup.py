"""What a desk's search box finds among the customers: practices by name, and people by name or
email. Both tables are a few thousand rows at most (beside 100,000 orders), so a desk's list reads
them first and then its own rows by their indexed practice and person."""

from __future__ import annotations

import re

from sqlalchemy import Select, or_, select, union

from shop.accounts.models import User
from shop.core.db import contains
from shop.practices.models import Practice


def practices_named(typed: str) -> Select:
    """The ids of the practices whose name holds `typed` (any case)."""
    return select(Practice.id).where(contains(Practice.name, typed))


def people_named(typed: str) -> Select:
    """The ids of the people whose name or email holds `typed` (any case)."""
    return select(User.id).where(or_(contains(User.full_name, typed), contains(User.email, typed)))


def document_number(typed: str, prefix: str) -> str | None:
    """`typed` as a document number with this prefix ("ORD-100012" from "ord-100012" or "100012"),
    or None when it is not one."""
    found = re.fullmatch(rf"(?:{re.escape(prefix)}-?)?(\d{{1,12}})", typed.strip().upper())
    return f"{prefix}-{found.group(1)}" if found else None


def records_found(typed: str, *, prefix: str, number, practice, person, exact=()):
    """The condition of a desk's search box on its records (orders, quotes): the record with
    that number (`prefix` or not), else those of practices named so, of people named so, or
    whose `exact` columns hold what was typed (in any of its cases); each through the index of
    `number`, `practice`, `person` or the `exact` column."""
    number_typed = document_number(typed, prefix)
    if number_typed:
        return number == number_typed
    typed = typed.strip()
    record_id = number.class_.id
    branches = [
        select(record_id).where(practice.in_(practices_named(typed))),
        select(record_id).where(person.in_(people_named(typed))),
        *(select(record_id).where(column.in_({typed, typed.upper(), typed.lower()})) for column in exact),
    ]
    return record_id.in_(union(*branches))
