"""`finsam backfill`: a Dagster backfill of the job ``allt``, one run per quarter, oldest first.

The backfill is recorded in the Dagster instance as a job backfill over the quarters' partitions,
exactly as the UI's "Launch backfill" records one, so it shows under Overview → Backfills with a
run per quarter. Its runs carry the tags the daemon gives a backfill's runs (``dagster/backfill``,
``dagster/partition``, ``dagster/partition_set``), and the command runs them itself, in process,
so no daemon needs to be running. The record is written with every partition marked as submitted,
so a daemon that happens to run (`dagster dev`) leaves it to the command.

Resuming:
- from the command line: the same command again finds the newest backfill over the same range; if
  it did not succeed, a new backfill (child of it, as the UI's re-execution makes one) runs only
  the quarters whose last run did not succeed;
- in the UI: the backfill's page offers "Re-execute → From failure" once it has ended with a
  failed quarter; the daemon then re-executes that quarter's failed steps (needs the daemon, i.e.
  `dagster dev` or `dagster-daemon`, and the same settings as the command had).

Dagster 1.13 has no public Python API to record a backfill (the GraphQL mutation needs a running
webserver); the few internal names used for it are imported here and nowhere else (see
docs/ARCHITECTURE.md, "Private Dagster APIs").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.execution.backfill import (   # private: see the module's docstring
    BulkActionsFilter,
    BulkActionStatus,
    PartitionBackfill,
)
from dagster._core.remote_origin import (   # private: see the module's docstring
    RegisteredCodeLocationOrigin,
    RemotePartitionSetOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.utils import make_new_backfill_id   # private: see the module's docstring

from finsam.errors import RunFailed
from orchestration.definitions import JOB
from orchestration.partitions import PARTITION_TAG, partition_set_name, quarter_keys
from orchestration.runner import run_quarters

# the code location's name (pyproject.toml, [tool.dagster]) and the repository Definitions become
LOCATION = "finsam"
REPOSITORY = "__repository__"
BACKFILL_TAG = "dagster/backfill"
PARENT_TAG = "dagster/parent_backfill_id"
ROOT_TAG = "dagster/root_backfill_id"
RANGE_TAG = "finsam/backfill_range"
ENDED = (BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED,
         BulkActionStatus.FAILED, BulkActionStatus.CANCELED, BulkActionStatus.COMPLETED)


def quarters(first: str, last: str) -> list[str]:
    keys = quarter_keys(first, last)
    if not keys:
        raise ValueError(f"--to {last} ligger före --from {first}")
    return keys


@dataclass
class BackfillResult:
    backfill_id: str
    resumed: bool
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    parent_id: str | None = None


def _origin() -> RemotePartitionSetOrigin:
    # the location by name only: the UI and the daemon look the partition set up by names
    return RemotePartitionSetOrigin(
        repository_origin=RemoteRepositoryOrigin(RegisteredCodeLocationOrigin(LOCATION),
                                                 REPOSITORY),
        partition_set_name=partition_set_name(JOB))


def _newest(instance: dg.DagsterInstance, span: str) -> PartitionBackfill | None:
    found = instance.get_backfills(filters=BulkActionsFilter(tags={RANGE_TAG: span}), limit=1)
    return found[0] if found else None


def _succeeded(instance: dg.DagsterInstance, backfill: PartitionBackfill) -> set[str]:
    """The quarters whose newest run in this backfill's family (it, its parent, ... its root)
    succeeded."""
    root = backfill.tags.get(ROOT_TAG, backfill.backfill_id)
    family = {root} | {item.backfill_id for item in instance.get_backfills(
        filters=BulkActionsFilter(tags={ROOT_TAG: root}))}
    newest: dict[str, tuple[float, bool]] = {}
    for backfill_id in family:
        for record in instance.get_run_records(
                filters=dg.RunsFilter(tags={BACKFILL_TAG: backfill_id})):
            key = record.dagster_run.tags.get(PARTITION_TAG)
            created = record.create_timestamp.timestamp()
            if key and (key not in newest or created > newest[key][0]):
                newest[key] = (created, record.dagster_run.is_success)
    return {key for key, (_, success) in newest.items() if success}


def _record(backfill_id: str, keys: list[str], span: str, first: str, last: str,
            parent: PartitionBackfill | None) -> PartitionBackfill:
    tags = {RANGE_TAG: span, "finsam/command": "backfill"}
    title = f"finsam backfill {first}–{last}"
    if parent is not None:
        tags |= {PARENT_TAG: parent.backfill_id,
                 ROOT_TAG: parent.tags.get(ROOT_TAG, parent.backfill_id)}
        title = f"Återupptagen: {title}"
    return PartitionBackfill(
        backfill_id=backfill_id, status=BulkActionStatus.REQUESTED, from_failure=False,
        tags=tags, backfill_timestamp=dt.datetime.now(dt.timezone.utc).timestamp(),
        partition_set_origin=_origin(), partition_names=keys,
        # every partition counts as submitted: a running daemon submits nothing of its own
        last_submitted_partition_name=keys[-1], title=title,
        description="Kört från kommandoraden, ett kvartal i taget, äldst först.")


def run_backfill(resource_defs: Mapping[str, dg.ConfigurableResource], first: str, last: str,
                 instance: dg.DagsterInstance, *, first_quarter: str | None = None,
                 progress: Callable[[str, str], None] = lambda quarter, state: None
                 ) -> BackfillResult:
    """Run the quarters in order. A failed quarter does not stop the later ones (each run takes in
    every new delivery, so nothing is skipped); invoking it again over the same range resumes that
    backfill and redoes only the quarters that did not succeed."""
    wanted = quarters(first, last)
    span = f"{wanted[0]}_{wanted[-1]}"
    previous = _newest(instance, span)
    resume = previous is not None and previous.status != BulkActionStatus.COMPLETED_SUCCESS
    succeeded = _succeeded(instance, previous) if resume else set()
    todo = [key for key in wanted if key not in succeeded]
    if resume and not todo:
        # every quarter has succeeded since: this is a new backfill, not a resumption
        resume, succeeded, todo = False, set(), wanted
    backfill = _record(make_new_backfill_id(), todo, span, wanted[0], wanted[-1],
                       previous if resume else None)
    instance.add_backfill(backfill)
    result = BackfillResult(backfill.backfill_id, resumed=resume,
                            parent_id=previous.backfill_id if resume else None)
    for key in wanted:
        if key in succeeded:
            result.skipped.append(key)
            progress(key, "redan klart")
            continue
        tags = {BACKFILL_TAG: backfill.backfill_id, RANGE_TAG: span, "finsam/command": "backfill"}
        try:
            run_quarters(resource_defs, key, key, instance, first_quarter=first_quarter or first,
                         tags=tags)
        except RunFailed as exc:
            result.failed[key] = str(exc)
            progress(key, "misslyckades")
            continue
        result.done.append(key)
        progress(key, "klart")
    status = BulkActionStatus.COMPLETED_FAILED if result.failed else BulkActionStatus.COMPLETED_SUCCESS
    ended = instance.get_backfill(backfill.backfill_id) or backfill
    instance.update_backfill(ended.with_status(status).with_end_timestamp(
        dt.datetime.now(dt.timezone.utc).timestamp()))
    return result
