"""The entry point the server loads (`gunicorn wsgi:app`): the application, and the collector set
for serving it (shop/core/collector.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shop.core.collector import YOUNG_ALLOCATIONS
from tests.helpers import command_env

ROOT = Path(__file__).resolve().parents[2]

# Run in the server's place: load the entry point, then make garbage in a cycle that only the
# collector can free, and allocate as a few pages would; the cycle must go without being asked.
PROBE = """
import gc, weakref
import wsgi
frozen, threshold = gc.get_freeze_count(), gc.get_threshold()[0]
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a
gone = []
weakref.finalize(a, gone.append, True)
del a, b
kept = [[n] for n in range({allocations})]
print(frozen, threshold, bool(gone), wsgi.app.name)
"""


def test_the_entry_point_loads_the_shop_and_sets_the_collector_for_serving(database_url, tmp_path):
    env = command_env(database_url, tmp_path)
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(allocations=YOUNG_ALLOCATIONS * 2)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    frozen, threshold, collected, name = completed.stdout.split()
    # The loaded application (its models, templates, statements) is set aside for good...
    assert int(frozen) > 50_000
    # ...young objects are looked at every YOUNG_ALLOCATIONS allocations, not every 700...
    assert int(threshold) == YOUNG_ALLOCATIONS == 50_000
    # ...and garbage in a cycle is still collected as the worker goes on allocating.
    assert collected == "True"
    assert name == "shop"
