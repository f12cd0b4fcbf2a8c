"""What a desk's search box finds among the customers: practices by name, and people by name or
email. Both tables are a few thousand rows at most (beside 100,000 orders), so a desk's list reads
them first and then its own rows by their indexed practice and person."""

from __future__ import annotations

import re

from sqlalchemy import Select, or_, select

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
