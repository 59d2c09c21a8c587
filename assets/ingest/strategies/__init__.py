"""How a source's deliveries become the warehouse's truth, one module per declared strategy."""

from __future__ import annotations

from types import ModuleType

from assets.ingest.strategies import delta, snapshot, workbook
from sources.spec import Strategy

STRATEGIES: dict[Strategy, ModuleType] = {
    Strategy.DELTA: delta,
    Strategy.SNAPSHOT: snapshot,
    Strategy.WORKBOOK: workbook,
}
