"""Source name -> reader module (each exposes SPEC, read and conform)."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from sources.specs import ALL

SOURCE_NAMES = tuple(spec.name for spec in ALL)


def reader(source: str) -> ModuleType:
    if source not in SOURCE_NAMES:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCE_NAMES)}")
    return import_module(f"sources.{source}")
