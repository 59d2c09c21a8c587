"""The freeze after the imports is once per process: what a run builds later is still collected."""

from __future__ import annotations

import gc
import weakref

from finsam import heap


class _Node:
    pass


def test_a_cycle_built_after_the_freeze_is_still_collected():
    heap.freeze_imported()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    node = _Node()
    node.itself = node          # only the cyclic collector can free this
    alive = weakref.ref(node)
    del node
    heap.freeze_imported()      # a second run in the same process freezes nothing more
    assert gc.get_freeze_count() == frozen
    gc.collect()
    assert alive() is None
