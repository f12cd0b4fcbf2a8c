"""What admins decide about a staff account beyond inviting it: its role and the desks it works."""

from __future__ import annotations

from shop.access import WORK_DESKS, Desk
from shop.accounts.models import Role, User
from shop.core import audit
from shop.core.db import unit_of_work
from shop.errors import NotEligible


def set_desks(admin: User, member: User, desks: set[Desk] | frozenset[Desk]) -> None:
    """An admin gives a staff member the desks they work (recorded, before and after)."""
    if not admin.is_admin:
        raise NotEligible("Only an administrator can change what a colleague may do.")
    if not member.is_staff:
        raise NotEligible("Desks are for staff accounts.")
    if member.is_admin:
        raise NotEligible("Administrators work every desk.")
    before = member.desk_codes
    with unit_of_work():
        member.desks = desks
        audit.record(admin, "staff.desks_changed", member, {"desks": (before, member.desk_codes)})


def set_role(admin: User, member: User, role: Role) -> None:
    """An admin makes a colleague an administrator, or staff again (recorded). Nobody changes
    their own role, so the admin acting always remains one: the shop never runs out of them."""
    if not admin.is_admin:
        raise NotEligible("Only an administrator can change a colleague's role.")
    if not member.is_staff or role not in (Role.STAFF, Role.ADMIN):
        raise NotEligible("Staff accounts are staff or administrators.")
    if member.id == admin.id:
        raise NotEligible("Another administrator must change your own role.")
    if member.role == role:
        return
    with unit_of_work():
        before = member.role, member.desk_codes
        member.role = role
        if role == Role.STAFF and not member.desks:
            member.desks = WORK_DESKS  # as a new staff account: the desks of the daily work
        changes = {"role": (before[0], role), "desks": (before[1], member.desk_codes)}
        audit.record(admin, "staff.role_changed", member, changes)
