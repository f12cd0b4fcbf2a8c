"""Python's cycle collector, set for a worker that serves pages.

A page allocates tens of thousands of objects (rows, model instances, template output) that
reference counting frees as the request ends; the collector's default of a young collection
every 700 allocations walks them many times a page, and each older collection walks the whole
loaded application too (models, compiled templates and statements), which never becomes
garbage. Timed on the catalogue pages (BENCHMARKS.md), the collector was about a fifth of a
listing's cost. Once the application is loaded, its objects are set aside for good
(`gc.freeze`) and the young collections run every YOUNG_ALLOCATIONS allocations: cycles are
still collected, a few times a second under load instead of hundreds of times, at the cost of
at most that many objects waiting a little longer.
"""

from __future__ import annotations

import gc

YOUNG_ALLOCATIONS = 50_000


def settle_for_serving() -> None:
    """Collect what loading the application left behind, set aside what remains (it lives as long
    as the worker), and collect young objects less often. Call once the application is built,
    in the process that serves it (`wsgi.py`)."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_ALLOCATIONS, middle, old)
