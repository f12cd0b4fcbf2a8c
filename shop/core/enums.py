"""Enumerations whose members carry the words people read beside the value stored."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members are written `PAID = "paid", "Paid"`: the value is stored, the
    label is shown."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member
