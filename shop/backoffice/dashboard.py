"""The dashboard's work queue: each desk registers what it counts, and the back office's front
page shows every count, linking to the list it counts. A desk that adds a queue registers it
here, through `queue`, and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shop.access import Desk


@dataclass(frozen=True)
class QueueCount:
    count: int
    singular: str  # "application to review"
    plural: str  # "applications to review"
    url: str

    @property
    def label(self) -> str:
        return self.singular if self.count == 1 else self.plural


Counter = Callable[[], list[QueueCount]]
_counters: list[tuple[int, Desk | None, Counter]] = []


def queue(position: int, desk: Desk | None = None) -> Callable[[Counter], Counter]:
    """Register a desk's counter (None: every member of staff sees it); the dashboard shows the
    counts in `position` order."""

    def register(counter: Counter) -> Counter:
        _counters.append((position, desk, counter))
        _counters.sort(key=lambda entry: entry[0])
        return counter

    return register


def work_queue(user) -> list[QueueCount]:
    """The counts of the desks `user` works; only theirs are counted."""
    return [count for _, desk, counter in _counters if desk is None or user.works(desk) for count in counter()]
