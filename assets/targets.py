"""The national systems finsam writes for, behind one interface: a target names itself and brings
its assets and checks. Which targets run is chosen once (``FINSAM_TARGETS`` / ``--targets``, read
in orchestration.settings); nothing else in the pipeline asks which system is in use.

Only the SUS target opens the identity vault; with SUS not chosen, its assets and checks are not
even in the graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dagster as dg

from assets import outputs_checks
from assets.sus.assets import build_assets as sus_assets
from assets.sus.checks import ready_for_sus
from assets.sus.worklist import build_assets as worklist_assets
from assets.uppfoljning.assets import build_assets as uppfoljning_assets
from finsam import targets


@dataclass(frozen=True)
class Target:
    """A national follow-up system: what finsam writes for it, as Dagster definitions."""

    name: str
    label: str
    identity_bearing: bool
    build: Callable[[dg.PartitionsDefinition], dg.Definitions]


def _sus(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[*sus_assets(partitions), *worklist_assets(partitions)],
                          asset_checks=[ready_for_sus, *outputs_checks.CHECKS])


def _uppfoljning(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=uppfoljning_assets(partitions))


TARGETS: dict[str, Target] = {
    targets.UPPFOLJNING: Target(targets.UPPFOLJNING, "Uppföljning Finsam", False, _uppfoljning),
    targets.SUS: Target(targets.SUS, "SUS", True, _sus),
}


def definitions(chosen: Iterable[str], partitions: dg.PartitionsDefinition) -> list[dg.Definitions]:
    """The chosen targets' definitions (names as finsam.targets.parse returns them)."""
    return [TARGETS[name].build(partitions) for name in chosen]
