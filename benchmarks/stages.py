"""Exclusive wall and CPU time per pipeline stage, by wrapping the functions each stage runs.

Stages nest (conform calls the identity normaliser, a load calls the schema guard), so a stack
charges every interval to the innermost stage only; the stages add up to the measured total.
"""

from __future__ import annotations

import importlib
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from sources.registry import REGISTRY

# stage -> functions ("module:attribute" or "module:Class.method") whose time it owns
STAGES: dict[str, tuple[str, ...]] = {
    "read": tuple(f"{source.reader.__name__}:read" for source in REGISTRY),
    "validate": ("validation.rules:RuleSchema.issues", "validation.warehouse:check_before_load"),
    "normalise + pseudonymise": ("finsam.identity:normalise", "finsam.privacy:Pseudonymiser.pseudonyms",
                                 "finsam.privacy:Pseudonymiser.pseudonyms_and_tombstones",
                                 "finsam.privacy:Vault.encrypt"),
    "consent": ("finsam.consent:consented", "assets.ingest.withdrawal:apply_erasure",
                "assets.ingest.withdrawal:register_out_withdrawn"),
    "load": ("warehouse.load:merge_delta", "warehouse.load:replace_where",
             "warehouse.load:replace_changed",
             "warehouse.load:insert_frame"),
    "SUS": ("assets.sus.assets:write_statistics", "assets.sus.submission:selection_for"),
    "budget": ("assets.budget.assets:write_quarter",),
}


@dataclass
class StageClock:
    wall: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _stack: list[tuple[str, float, float]] = field(default_factory=list)

    def _enter(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if self._stack:
            outer, since, cpu_since = self._stack[-1]
            self.wall[outer] += now - since
            self.cpu[outer] += cpu - cpu_since
        self._stack.append((stage, now, cpu))

    def _leave(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        stage, since, cpu_since = self._stack.pop()
        self.wall[stage] += now - since
        self.cpu[stage] += cpu - cpu_since
        if self._stack:
            outer, _, _ = self._stack[-1]
            self._stack[-1] = (outer, now, cpu)

    @contextmanager
    def stage(self, name: str):
        self._enter(name)
        try:
            yield
        finally:
            self._leave()

    def wrap(self, stage: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            with self.stage(stage):
                return function(*args, **kwargs)
        timed.__wrapped__ = function
        return timed


def _resolve(target: str) -> tuple[object, str]:
    module_name, attribute = target.split(":")
    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, name


def install(clock: StageClock) -> Callable[[], None]:
    """Wrap every stage function (also where it was imported by name); returns the undo."""
    undo = []
    for stage, targets in STAGES.items():
        for target in targets:
            owner, name = _resolve(target)
            original = getattr(owner, name)
            wrapped = clock.wrap(stage, original)
            setattr(owner, name, wrapped)
            undo.append((owner, name, original))
            undo += _rebind_imported(original, wrapped)

    def restore() -> None:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)
    return restore


def _rebind_imported(original: Callable, wrapped: Callable) -> list:
    """Modules that did ``from x import f`` hold their own reference; point it at the wrapper.

    A module first imported while an earlier clock was installed holds that clock's wrapper (a
    worker process measures one förbund after another): it is rebound too, else its calls would
    be charged to a finished measurement."""
    import sys

    rebound = []
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith(
                ("assets", "sources", "finsam", "validation", "warehouse", "orchestration")):
            continue
        for name, value in list(vars(module).items()):
            if value is original or (value is not wrapped and _unwrapped(value) is original):
                setattr(module, name, wrapped)
                rebound.append((module, name, original))
    return rebound


def _unwrapped(value: object) -> object:
    while hasattr(value, "__wrapped__"):
        value = value.__wrapped__
    return value
