"""What Dagster recorded about asset checks, read as the UI shows it."""

from __future__ import annotations

import dagster as dg


def latest_evaluations(instance: dg.DagsterInstance) -> dict[tuple[str, str], object]:
    """The newest evaluation of every (asset, check), as the UI shows it."""
    latest: dict[tuple[str, str], tuple[float, object]] = {}
    for record in instance.get_run_records():
        for event in instance.get_records_for_run(
                record.dagster_run.run_id,
                of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
            evaluation = event.event_log_entry.dagster_event.event_specific_data
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
            stamp = event.event_log_entry.timestamp
            if key not in latest or stamp > latest[key][0]:
                latest[key] = (stamp, evaluation)
    return {key: evaluation for key, (_, evaluation) in latest.items()}
