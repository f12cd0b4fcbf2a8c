"""The filter panel's choices (categories, brands, ingredients, treatment areas). They change a few
times a year, and every listing shows them: each process reads them once and keeps them for
FACETS_SECONDS, and forgets them at once when it writes one of them (another process's change
shows within FACETS_SECONDS). Kept as plain values, never as rows of a session."""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from shop.catalogue.models import Brand, Category, Ingredient, TreatmentArea
from shop.extensions import db

FACETS_SECONDS = 60
CHOICES = {
    "categories": (Category, (Category.position, Category.name)),
    "brands": (Brand, (Brand.name,)),
    "ingredients": (Ingredient, (Ingredient.name,)),
    "areas": (TreatmentArea, (TreatmentArea.position, TreatmentArea.name)),
}
_KINDS = tuple(kind for kind, _order in CHOICES.values())


class Choice(NamedTuple):
    slug: str
    name: str
    id: int


_kept: dict = {}
_lock = threading.Lock()


def facets() -> dict[str, list[Choice]]:
    """The choices the filter panel offers, each kind in its order."""
    with _lock:
        if _kept and time.monotonic() - _kept["at"] < FACETS_SECONDS:
            return _kept["choices"]
    choices = _read()
    with _lock:
        _kept.update(at=time.monotonic(), choices=choices)
    return choices


def _read() -> dict[str, list[Choice]]:
    return {
        name: [Choice(*row) for row in db.session.execute(select(kind.slug, kind.name, kind.id).order_by(*order))]
        for name, (kind, order) in CHOICES.items()
    }


def chosen_id(kind: str, slug: str) -> int | None:
    """The id of the `kind` ("categories", "brands", "ingredients", "areas") with this slug, as
    the filter panel offers it (None for one it does not offer)."""
    return next((choice.id for choice in facets()[kind] if choice.slug == slug), None)


def forget() -> None:
    """Read the choices afresh next time (after a change, or a test emptying the tables)."""
    with _lock:
        _kept.clear()


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, _context) -> None:
    if any(isinstance(obj, _KINDS) for obj in (*session.new, *session.dirty, *session.deleted)):
        forget()
