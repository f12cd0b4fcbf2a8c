"""The panels of a practice's page in the back office. The page itself (shop.practices.staff_views)
shows the practice, its members, terms and history; each part of the business above adds what it
knows of the practice (what it owes, its orders, its agreed prices...) by registering a panel here,
through `panel`, and nowhere else, as the dashboard's queues are registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shop.practices.models import Practice


@dataclass(frozen=True)
class Panel:
    title: str
    template: str  # drawn with `panel` and `practice` in its context
    context: dict = field(default_factory=dict)


PanelSource = Callable[[Practice], Panel | None]
_sources: list[tuple[int, PanelSource]] = []


def panel(position: int) -> Callable[[PanelSource], PanelSource]:
    """Register a source of a panel (None: nothing to show for this practice); panels are shown
    in `position` order."""

    def register(source: PanelSource) -> PanelSource:
        _sources.append((position, source))
        _sources.sort(key=lambda entry: entry[0])
        return source

    return register


def panels_for(practice: Practice) -> list[Panel]:
    return [shown for _, source in _sources if (shown := source(practice)) is not None]
