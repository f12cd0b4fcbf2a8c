"""Practices, the customers of the shop: a clinic with its name and phone, its delivery
addresses, and the clinicians who order for it (each with a role in it: the owner manages the
practice, a buyer orders and asks for quotes)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.core.events import EventColumns
from shop.errors import NotFound
from shop.extensions import db

if TYPE_CHECKING:  # the people of a practice are accounts, a part above this one
    from shop.accounts.models import User


class PracticeRole(LabelledEnum):
    OWNER = "owner", "Owner"
    BUYER = "buyer", "Buyer"

    @property
    def duties(self) -> str:
        """What the role lets a member do, as a sentence that follows "you"."""
        if self is PracticeRole.OWNER:
            return "manage the members, addresses and details of the practice, and see every order, quote and invoice"
        return "order and ask for quotes, and see the practice's orders and quotes"


class PracticeStatus(LabelledEnum):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


# A suspended practice keeps its history and its members' logins, but cannot order.
PRACTICE_TRANSITIONS: dict[PracticeStatus, frozenset[PracticeStatus]] = {
    PracticeStatus.ACTIVE: frozenset({PracticeStatus.SUSPENDED}),
    PracticeStatus.SUSPENDED: frozenset({PracticeStatus.ACTIVE}),
}


# PO boxes in the forms clinicians write them, which couriers cannot deliver injectables to:
# "PO Box 12", "P.O. Box", "PO-Box", "P0 Box" (a zero for the O), "POB 12", "GPO Box" and
# "Locked Bag" (Australia), "Post Office Box", "Post-Office Box", and the European forms:
# "Postbus" (NL), "Postfach" (DE, AT, CH), "Boîte postale" / "BP 123" and "Case postale" (FR, CH,
# BE), "Apartado" / "Apdo." (ES). Text is NFKC-folded first, so full-width letters count too.
PO_BOX = re.compile(
    r"""\b(
        g?p[\s.\-]*[o0][\s.\-]*(box|b)(?=\d|\b)
      | post[\s\-]*office[\s\-]*box
      | post\s*box | pobox
      | locked\s+bag
      | postbus | postfach
      | bo[iî]te\s+postale | case\s+postale | bp\s*\d
      | apartado | apdo\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def looks_like_po_box(text: str) -> bool:
    return bool(PO_BOX.search(unicodedata.normalize("NFKC", text or "")))


class Practice(db.Model):
    __tablename__ = "practices"
    audit_type = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[PracticeStatus] = mapped_column(
        enum_column(PracticeStatus, "practice_status"), default=PracticeStatus.ACTIVE, server_default="active"
    )
    suspension_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Paying on account (by invoice) is off until staff enable it for the practice.
    on_account: Mapped[bool] = mapped_column(default=False, server_default=false())
    payment_terms_days: Mapped[int] = mapped_column(default=30, server_default="30")
    credit_limit_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # Off every list price the practice pays, in basis points (where no price is agreed).
    discount_bps: Mapped[int] = mapped_column(default=0, server_default="0")

    addresses: Mapped[list[Address]] = relationship(
        back_populates="practice", order_by="Address.id", cascade="all, delete-orphan"
    )
    members: Mapped[list[User]] = relationship(back_populates="practice", order_by="User.id")
    events: Mapped[list[PracticeEvent]] = relationship(
        back_populates="practice", order_by="PracticeEvent.id", cascade="all, delete-orphan"
    )

    @property
    def default_address(self) -> Address | None:
        defaults = [a for a in self.addresses if a.is_default]
        return (defaults or self.addresses or [None])[0]

    @property
    def owners(self) -> list[User]:
        return [member for member in self.members if member.practice_role == PracticeRole.OWNER]

    @property
    def active_members(self) -> list[User]:
        """The members whose accounts are active: those the shop writes to."""
        return [member for member in self.members if member.active]

    @property
    def active_owners(self) -> list[User]:
        return [member for member in self.owners if member.active]

    @property
    def is_suspended(self) -> bool:
        return self.status == PracticeStatus.SUSPENDED

    @property
    def described_as(self) -> str:
        return f"Practice {self.name}"

    def can_become(self, target: PracticeStatus) -> bool:
        return target in PRACTICE_TRANSITIONS[self.status]

    def new_event(self, **columns) -> PracticeEvent:
        return PracticeEvent(practice_id=self.id, **columns)


def of_own_practice(user: User, record, what: str):
    """`record` (an order, a quote...) when it belongs to the user's practice; anything else,
    missing or another practice's, is NotFound, so that a 404 never tells what exists."""
    if record is None or user.practice_id is None or record.practice_id != user.practice_id:
        raise NotFound(f"There is no such {what}.")
    return record


class Address(db.Model):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"), index=True)
    line1: Mapped[str] = mapped_column(String(120))
    line2: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80))
    region: Mapped[str] = mapped_column(String(80), default="")
    postcode: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False)

    practice: Mapped[Practice] = relationship(back_populates="addresses")

    @property
    def is_po_box(self) -> bool:
        return looks_like_po_box(f"{self.line1} {self.line2}")

    def lines(self) -> list[str]:
        """The address as printed on a label, without the country (shown by name in templates)."""
        town = ", ".join(part for part in (self.city, self.region) if part)
        locality = " ".join(part for part in (town, self.postcode) if part)
        return [line for line in (self.line1, self.line2, locality) if line]


class PracticeEvent(EventColumns, db.Model):
    """Who changed what of a practice, and when: members invited, joining, changing role or
    leaving, its terms and its suspension, each with what it was before and after."""

    __tablename__ = "practice_events"

    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"), index=True)

    practice: Mapped[Practice] = relationship(back_populates="events")

    @property
    def label(self) -> str:
        return PRACTICE_EVENT_LABELS.get(self.action, self.action.replace("_", " ").capitalize())


PRACTICE_EVENT_LABELS = {
    "member_invited": "Colleague invited",
    "invitation_cancelled": "Invitation withdrawn",
    "member_joined": "Colleague joined",
    "member_attached": "Applicant attached by the verification desk",
    "role_changed": "Role changed",
    "member_removed": "Member removed",
    "details_changed": "Details changed",
    "terms_changed": "Terms changed",
    "price_agreed": "Agreed price changed",
    "suspended": "Suspended",
    "reinstated": "Suspension lifted",
}


class Invitation(db.Model):
    """An owner's invitation to a colleague, by email. The emailed link is signed and names the
    invitation; the row says whether it is still open (not accepted, withdrawn or expired)."""

    __tablename__ = "practice_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"), index=True)
    # Stored lower-cased, as accounts keep theirs.
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[PracticeRole] = mapped_column(enum_column(PracticeRole, "practice_role"))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practice: Mapped[Practice] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > now
