"""People: users with a role (and, for a clinician, the practice they order for and their role
in it), the server-side login sessions that make logout final, and second factors with their
recovery codes (used in `second_factor`). Practices themselves are in shop.practices."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from shop.access import Desk
from shop.core.db import UTCDateTime, enum_column
from shop.core.enums import LabelledEnum
from shop.extensions import db
from shop.practices.models import Practice, PracticeRole

if TYPE_CHECKING:
    from shop.accounts.licences import LicenceApplication


class Role(StrEnum):
    CLINICIAN = "clinician"
    STAFF = "staff"
    ADMIN = "admin"


class Profession(LabelledEnum):
    PHYSICIAN = "physician", "Physician (MD/DO)"
    DENTIST = "dentist", "Dentist"
    NURSE_PRACTITIONER = "nurse_practitioner", "Nurse practitioner"
    PHYSICIAN_ASSISTANT = "physician_assistant", "Physician assistant"
    REGISTERED_NURSE = "registered_nurse", "Registered nurse (under a prescriber)"
    PHARMACIST = "pharmacist", "Pharmacist"


def prescriber_professions(setting: str | None = None) -> tuple[Profession, ...]:
    """The professions whose licence lets a clinician buy prescription-only products, in the
    order of `Profession`, from PRESCRIBER_PROFESSIONS (or `setting`): profession values
    separated by commas, such as "physician,dentist". Raises ValueError, naming the word, for
    anything that is not a profession, and when none is named. The sale rule itself is
    shop.catalogue.compliance's."""
    raw = current_app.config["PRESCRIBER_PROFESSIONS"] if setting is None else setting
    named = [part.strip().lower() for part in str(raw).split(",") if part.strip()]
    unknown = [word for word in named if word not in Profession._value2member_map_]
    if unknown:
        raise ValueError(
            f"{', '.join(repr(word) for word in unknown)} {'is' if len(unknown) == 1 else 'are'} not "
            f"a profession; use {', '.join(p.value for p in Profession)}"
        )
    if not named:
        raise ValueError(f"name at least one profession of {', '.join(p.value for p in Profession)}")
    return tuple(profession for profession in Profession if profession.value in named)


# The password of an account created by invitation until its owner chooses one: no password
# verifies against it.
UNSET_PASSWORD = "!unset"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    active: Mapped[bool] = mapped_column(default=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practices.id"), index=True)
    # A clinician's role in their practice (None for staff, and for someone removed from one).
    practice_role: Mapped[PracticeRole | None] = mapped_column(enum_column(PracticeRole, "practice_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the owner opened the confirmation link emailed at registration (accounts made by an
    # operator or an admin's invitation count as confirmed when made).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The back-office desks a staff member works, as their codes separated by commas (admins
    # work every desk whatever this says).
    desk_codes: Mapped[str] = mapped_column(String(200), default="", server_default="")

    practice: Mapped[Practice | None] = relationship(back_populates="members")
    application: Mapped[LicenceApplication | None] = relationship(
        back_populates="applicant", foreign_keys="LicenceApplication.user_id", uselist=False
    )

    # Set by the auth service when a login session starts or is loaded; Flask-Login keeps this
    # opaque token in the signed cookie instead of the user id, so ending the server-side
    # session makes a copied cookie worthless.
    login_token = None

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    def get_id(self) -> str | None:
        return self.login_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def audit_label(self) -> str:
        """How the audit log and the mail log name the person."""
        return f"{self.full_name} <{self.email}>"

    @property
    def is_invited(self) -> bool:
        """Invited by an administrator, and has not chosen a password yet."""
        return self.password_hash == UNSET_PASSWORD

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_clinician(self) -> bool:
        return self.role == Role.CLINICIAN

    @property
    def desks(self) -> frozenset[Desk]:
        codes = {code for code in (self.desk_codes or "").split(",") if code}
        return frozenset(desk for desk in Desk if desk.value in codes)

    @desks.setter
    def desks(self, desks) -> None:
        self.desk_codes = ",".join(sorted(Desk(desk).value for desk in desks))

    def works(self, desk: Desk) -> bool:
        """Whether the back-office desk is this person's: every desk for an admin."""
        return self.is_admin or (self.is_staff and desk in self.desks)

    def was_verified(self) -> bool:
        """A clinician, still a member of a practice, whose licence staff approved at some time
        (it may have lapsed since, or a renewal may be under review)."""
        return (
            self.is_clinician
            and self.active
            and self.practice_id is not None
            and self.application is not None
            and self.application.ever_approved()
        )

    def is_verified(self, today: date) -> bool:
        """A clinician may see and buy once staff approved a licence that is still valid, while
        they are a member of a practice (someone removed from theirs orders nothing)."""
        return (
            self.is_clinician
            and self.active
            and self.practice_id is not None
            and self.application is not None
            and self.application.grants_access(today)
        )


def normalise_email(value: str) -> str:
    return (value or "").strip().lower()


def user_with_email(email: str) -> User | None:
    """The account under `email`, in any case and with any surrounding space, or None."""
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


class LoginSession(db.Model):
    """One browser's login. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last request made with it (written at most once a minute); idle logins end.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User] = relationship()

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class SecondFactor(db.Model):
    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set once the person typed a first code from their app: the factor is in use from then.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_step: Mapped[int | None]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
