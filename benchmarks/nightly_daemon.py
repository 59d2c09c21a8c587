"""The nightly of one average förbund launched as the schedule launches it, beside `finsam run`.

    python -m benchmarks.nightly_daemon --workdir bench-nightly [--repetitions 5] [--profile]

One average förbund (ten years at 1/75 of the national volume, ``scale_generator``) is loaded with
`finsam run` over its whole range, then one more day (``scale_generator.next_day``) lands. The
night's run is then measured both ways on the same warehouse and day, the paths alternating and
the warehouse and output folder put back to the same state before every run:

* **the scheduled path**: the schedule ``nattlig_korning`` is evaluated for 02:00 that day and
  its RunRequest is submitted to finsam's Dagster instance with Dagster's own `dagster job
  launch`; the run waits in the instance's queue until a real `dagster-daemon` (finsam's own
  workspace and instance, as `finsam backfill` starts it: ``orchestration/backfill.py``) takes it
  and its run launcher starts the run's worker process. Measured from the moment the run exists
  (what the scheduler does at 02:00) to the run's RUN_SUCCESS event, with its parts from the run's
  own events: waiting in the queue, the worker's start (imports, loading the definitions), the
  steps, and among them the asset checks.
* **the command line**: `finsam run --from Q --to Q` for the same quarters, a process of its own,
  from start to exit (imports, the instance, the run, the summary it prints).

Both runs must read the same rows and leave the same tables and output files behind (compared
after each run), or the figures are not reported. Results go to ``<workdir>/nightly_daemon.json``
and, as Markdown, to standard output. ``--profile`` samples the scheduled run's worker with py-spy
(if installed: `pip install py-spy`) and reports the shares of imports, event-log writes and the
asset checks in it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from sqlalchemy import create_engine, inspect, text

from assets.ingest.transforms import DEIDENTIFIED_KEY_PREFIX
from benchmarks.run import one_more_day
from benchmarks.scale_generator import generate_national

ROOT = Path(__file__).resolve().parents[1]
STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHEDULE = "nattlig_korning"
BENCH_TAG = "finsam/benchmark"
_ENDED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
#: what the run's events tell about the scheduled path, in order
_MILESTONES = (dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING,
               dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS)
#: files whose bytes carry the run's id or the moment they were written, compared by name only
_STAMPED = (".html", ".xlsx", ".json", ".csv", ".log", ".jsonl")


@dataclass
class Setup:
    """One förbund's warehouse after its full load, with one more day in its landing zone."""

    workdir: Path
    landing: Path
    url: str
    out: Path
    home: Path
    keys: tuple[str, str]
    first_quarter: str
    day: dt.date
    quarters: tuple[str, str]
    tags: dict[str, str]
    full_load_wall: float
    nights_before: int = 0

    @property
    def env(self) -> dict[str, str]:
        """What both paths read: finsam's settings (``orchestration/settings.py``) and the home."""
        from orchestration import settings

        values = settings.as_environment(self.landing, self.url, self.out, *self.keys,
                                         self.first_quarter)
        # the benchmark's files were written a moment ago: nothing is still uploading; freshness is
        # judged against the night that is measured, not the calendar
        return {**os.environ, **values, "DAGSTER_HOME": str(self.home),
                settings.SETTLE_ENV: "0", settings.FRESHNESS_REFERENCE_ENV: self.day.isoformat()}


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _quarter(day: dt.date) -> str:
    from orchestration.partitions import quarter_of_day

    return quarter_of_day(day)


def schedule_tags(day: dt.date, first_quarter: str) -> dict[str, str]:
    """The tags of the RunRequest the nightly schedule makes at 02:00 (Stockholm) on ``day``."""
    from orchestration import settings
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings.from_environment(), first_quarter)
    schedule = defs.resolve_schedule_def(SCHEDULE)
    when = dt.datetime.combine(day, dt.time(2, 0), tzinfo=STOCKHOLM)
    (request,) = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=when)).run_requests
    return dict(request.tags)


def _cli(env: dict[str, str], landing: Path, url: str, out: Path, first: str,
         last: str) -> subprocess.CompletedProcess:
    command = [_tool("finsam"), "run", "--landing", str(landing), "--warehouse", url, "--out",
               str(out), "--from", first, "--to", last]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"finsam run slutade med {done.returncode}: {done.stderr.strip()}")
    return done


def prepare(workdir: Path, *, scale: float = 1 / 75, years: int = 10, seed: int = 1,
            nights_before: int = 1) -> Setup:
    """Generate one förbund, load it in full with `finsam run`, run ``nights_before`` nights
    (each one more day and `finsam run` of its schedule's quarters), land one more day.

    One night before is the typical night: the schedule's quarters were refreshed the night
    before, so their statistics' release is in the register already. With none, the measured
    night is the first of its quarters (the first night of a quarter, once a quarter)."""
    from finsam.privacy import write_new_keys
    from orchestration.backfill import ensure_one_run_at_a_time
    from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG
    from sources.landing import earliest_extraction, latest_extraction

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    root = workdir / "landing"
    generate_national(root, scale=scale, seed=seed, forbund=1, years=years)
    landing = root / "sf01"
    keys = tuple(str(path) for path in write_new_keys(workdir / "keys"))
    first, last = _quarter(earliest_extraction(landing)), _quarter(latest_extraction(landing))
    setup = Setup(workdir=workdir, landing=landing, url=f"sqlite:///{workdir / 'warehouse.db'}",
                  out=workdir / "out", home=workdir / "dagster_home", keys=keys,
                  first_quarter=first, day=dt.date.min, quarters=(first, last), tags={},
                  full_load_wall=0.0)
    # the full load is the day before the night: its freshness reference is its own last day
    setup.day = latest_extraction(landing)
    started = time.perf_counter()
    _cli(setup.env, landing, setup.url, setup.out, first, last)
    setup.full_load_wall = time.perf_counter() - started
    for _ in range(nights_before):
        setup.day, _ = one_more_day(root, scale, seed)
        before = schedule_tags(setup.day, first)
        _cli(setup.env, landing, setup.url, setup.out, before[RANGE_START_TAG],
             before[RANGE_END_TAG])
    setup.nights_before = nights_before
    setup.day, _ = one_more_day(root, scale, seed)
    setup.tags = schedule_tags(setup.day, first)
    setup.quarters = (setup.tags[RANGE_START_TAG], setup.tags[RANGE_END_TAG])
    # the queue as finsam's own daemon runs it (one run at a time), as `finsam backfill` sets it
    ensure_one_run_at_a_time(setup.home)
    _save(setup)
    return setup


# --- the same state before every run ------------------------------------------------------------

def _database_files(setup: Setup) -> list[Path]:
    database = Path(setup.url.removeprefix("sqlite:///"))
    return [path for path in database.parent.glob(database.name + "*")
            if not path.name.endswith(".lock")]


def _save(setup: Setup) -> None:
    base = setup.workdir / "before_the_night"
    base.mkdir()
    for path in _database_files(setup):
        shutil.copy2(path, base / path.name)
    shutil.copytree(setup.out, base / "out")


def _restore(setup: Setup) -> None:
    base = setup.workdir / "before_the_night"
    for path in _database_files(setup):
        path.unlink()
    for path in base.iterdir():
        if path.is_file():
            shutil.copy2(path, setup.workdir / path.name)
    shutil.rmtree(setup.out)
    shutil.copytree(base / "out", setup.out)


#: derived from the ids and stamps above, and compared through them
_DERIVED = {("output_view", "files"), ("output_view", "deliveries")}


def _comparable(table: str, column: str) -> bool:
    """Columns whose values two equal nights share: not a surrogate id (the steps of a run are
    ordered by Dagster, so the same rows may get other ids), not the moment something was written,
    not what is random by design (the vault's ciphertext, a de-identified person's token)."""
    return not (column == "id" or column.endswith(("_at", "_seen", "run_id", "_row_id"))
                or column in ("ciphertext", "deidentified_person")
                or (table, column) in _DERIVED)


def _value(value):
    # a de-identified record's key carries its random token after the prefix
    if isinstance(value, str) and value.startswith(DEIDENTIFIED_KEY_PREFIX):
        return DEIDENTIFIED_KEY_PREFIX + value.split("|", 2)[-1]
    return value


def state(setup: Setup) -> dict:
    """What a night left behind: every table's rows (a digest of their sorted values; a delivery
    named by its source and file, not its id) and every output file's name (and bytes where they
    carry no stamp)."""
    engine = create_engine(setup.url)
    tables = {}
    try:
        with engine.connect() as connection:
            files = dict(connection.execute(text(
                "SELECT id, source || '/' || file_name FROM delivery")).fetchall())
            for name in sorted(inspect(connection).get_table_names()):
                columns = [column["name"] for column in inspect(connection).get_columns(name)
                           if _comparable(name, column["name"])]
                rows = connection.execute(text(
                    "SELECT " + ", ".join(f'"{column}"' for column in columns) + f' FROM "{name}"')
                ).fetchall()
                named = [tuple(files.get(value, value) if column == "delivery_id" else _value(value)
                               for column, value in zip(columns, row)) for row in rows]
                digest = hashlib.sha256("\n".join(sorted(map(repr, named))).encode()).hexdigest()
                tables[name] = (len(rows), digest)
    finally:
        engine.dispose()
    files = {}
    for path in sorted(setup.out.rglob("*")):
        if path.is_file() and "dagster_home" not in path.parts:
            key = str(path.relative_to(setup.out))
            files[key] = ("" if path.suffix in _STAMPED
                          else hashlib.sha256(path.read_bytes()).hexdigest())
    return {"tables": tables, "files": files}


# --- one night through each path -----------------------------------------------------------------

def _rows_read(instance: dg.DagsterInstance, run_id: str) -> int:
    total = 0
    for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records:
        metadata = record.event_log_entry.dagster_event.event_specific_data.materialization.metadata
        value = metadata.get("rows_read")
        total += int(value.value) if value is not None else 0
    return total


def _steps(instance: dg.DagsterInstance, run_id: str) -> dict:
    """Seconds in all steps and in the asset-check steps (those that evaluated a check and
    materialised nothing), and how many events the run stored."""
    records = instance.get_records_for_run(run_id, limit=100_000).records
    started, seconds, checks, assets = {}, {}, set(), set()
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS,
                                  dg.DagsterEventType.STEP_FAILURE) and entry.step_key in started:
            seconds[entry.step_key] = entry.timestamp - started[entry.step_key]
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            checks.add(entry.step_key)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            assets.add(entry.step_key)
    check_steps = checks - assets
    return {"steps_s": sum(seconds.values()),
            "check_steps_s": sum(value for key, value in seconds.items() if key in check_steps),
            "steps": len(seconds), "check_steps": len(check_steps), "events": len(records)}


def _gx_suites(instance: dg.DagsterInstance, run_id: str) -> dict:
    """How many Great Expectations suites the run judged, and how many of them kept an earlier
    result because their frame was exactly what GX had judged before (``oförändrad_sedan``)."""
    judged = reused = 0
    for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.check_name.startswith("gx_"):
            judged += 1
            reused += "oförändrad_sedan" in evaluation.metadata
    return {"gx_suites": judged, "gx_suites_unchanged": reused}


def _wait(instance: dg.DagsterInstance, run_id: str, timeout: float) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while True:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status in _ENDED:
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"körningen {run_id} blev inte klar på {timeout:.0f} s")
        time.sleep(0.2)


def _launched(instance: dg.DagsterInstance, env: dict[str, str], workspace: Path, job: str,
              tags: dict[str, str], *, location: str | None = None,
              timeout: float = 1800) -> dict:
    """A run of ``job`` submitted with `dagster job launch` as the scheduler submits one, waited
    for, and its wall from creation to RUN_SUCCESS split by the run's own events."""
    run_id = str(uuid.uuid4())
    command = [_tool("dagster"), "job", "launch", "-w", str(workspace), "-j", job,
               "--tags", json.dumps(tags), "--run-id", run_id]
    if location is not None:
        command += ["-l", location]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    submitted = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dagster job launch: {done.stderr.strip()[-2000:]}")
    run = _wait(instance, run_id, timeout)
    if not run.is_success:
        raise RuntimeError(f"körningen {run_id} ({job}) slutade {run.status.value}")
    record = instance.get_run_record_by_id(run_id)
    created = record.create_timestamp.timestamp()
    moments = {}
    for kind in _MILESTONES:
        found = instance.get_records_for_run(run_id, of_type=kind).records
        moments[kind.name] = found[0].event_log_entry.timestamp if found else None
    success = moments["RUN_SUCCESS"]
    # without a queue (DefaultRunCoordinator) the run is launched as it is submitted
    enqueued = moments["RUN_ENQUEUED"] or moments["RUN_STARTING"]
    return {"run_id": run_id, "wall": success - created,
            # the run's planned materialisations and checks recorded as it is created
            "create_s": enqueued - created,
            # until the daemon's queue takes it (it looks every few seconds) and launches it
            "queue_s": moments["RUN_STARTING"] - enqueued,
            "worker_start_s": moments["RUN_START"] - moments["RUN_STARTING"],
            "run_s": success - moments["RUN_START"], "submit_command_s": submitted,
            **_steps(instance, run_id),
            "enqueued": moments["RUN_ENQUEUED"] is not None,
            "worker_per_step": bool(instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTING).records)}


def through_daemon(setup: Setup, instance: dg.DagsterInstance, workspace: Path,
                   timeout: float = 1800) -> dict:
    """The schedule's RunRequest submitted to the queue; the daemon launches it."""
    tags = {**setup.tags, BENCH_TAG: "schemalagd väg"}
    result = _launched(instance, setup.env, workspace, "allt", tags, timeout=timeout)
    return {**result, "rows_read": _rows_read(instance, result["run_id"]),
            **_gx_suites(instance, result["run_id"])}


def through_cli(setup: Setup, instance: dg.DagsterInstance) -> dict:
    """`finsam run` for the schedule's quarters, a process of its own, start to exit."""
    before = {run.run_id for run in instance.get_runs()}
    started = time.time()
    clock = time.perf_counter()
    _cli(setup.env, setup.landing, setup.url, setup.out, *setup.quarters)
    wall = time.perf_counter() - clock
    (run_id,) = [run.run_id for run in instance.get_runs() if run.run_id not in before]
    record = instance.get_run_record_by_id(run_id)
    start = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START).records
    success = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
    created = record.create_timestamp.timestamp()
    return {"run_id": run_id, "wall": wall,
            "process_start_s": created - started,     # imports, the instance, the definitions
            "create_s": start[0].event_log_entry.timestamp - created,
            "run_s": success[0].event_log_entry.timestamp - start[0].event_log_entry.timestamp,
            "after_run_s": started + wall - success[0].event_log_entry.timestamp,
            "rows_read": _rows_read(instance, run_id), **_steps(instance, run_id),
            **_gx_suites(instance, run_id)}


# --- the daemon ----------------------------------------------------------------------------------

def _start_daemon(setup: Setup, *, profile: Path | None) -> tuple[subprocess.Popen, Path]:
    """finsam's own daemon: its workspace (location ``finsam`` without schedule and sensor, so it
    starts nothing by itself) and instance, as `finsam backfill` starts it."""
    from orchestration.backfill import _start_daemon as start
    from orchestration.backfill import _workspace

    workspace = _workspace(setup.home)
    log = setup.home / "benchmark_daemon.log"
    if profile is None:
        return start(setup.env, workspace, log), workspace
    # py-spy samples the daemon and every process it starts (the code server, each run's worker)
    command = [_py_spy(), "record", "--subprocesses", "--idle", "--rate", "50", "--format", "raw",
               "--output", str(profile), "--", _tool("dagster-daemon"), "run", "-w", str(workspace)]
    with log.open("a", encoding="utf-8") as handle:
        return subprocess.Popen(command, env=setup.env, cwd=ROOT, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True), workspace


def _wait_for_daemon(instance: dg.DagsterInstance, daemon: subprocess.Popen,
                     timeout: float = 600) -> None:
    from orchestration.backfill import daemon_is_running

    deadline = time.monotonic() + timeout
    while not daemon_is_running(instance):
        if daemon.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("dagster-daemon startade inte")
        time.sleep(1)


def _stop_daemon(daemon: subprocess.Popen, instance: dg.DagsterInstance) -> None:
    from orchestration.backfill import _stop

    _stop(daemon)
    instance.wipe_daemon_heartbeats()


def _py_spy() -> str:
    found = shutil.which("py-spy") or _tool("py-spy")
    if not Path(found).exists():
        raise RuntimeError("--profile behöver py-spy: pip install py-spy")
    return found


# --- the measurement -----------------------------------------------------------------------------

def _differences(one: dict, other: dict) -> str:
    tables = sorted(name for name in set(one["tables"]) | set(other["tables"])
                    if one["tables"].get(name) != other["tables"].get(name))
    files = sorted(name for name in set(one["files"]) | set(other["files"])
                   if one["files"].get(name) != other["files"].get(name))
    return f"tabeller {tables}, filer {files[:10]}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def measure(setup: Setup, repetitions: int = 5, *, profile: Path | None = None) -> dict:
    """The night ``repetitions`` times through each path, alternating which goes first, from the
    same warehouse and output folder every time; the daemon runs all along (as in production)."""
    from orchestration.instance import write_settings

    # a home prepared by an earlier version gets finsam's current instance settings, as the
    # command line brings them up to date
    write_settings(setup.home)
    instance = dg.DagsterInstance.from_config(str(setup.home))
    daemon, workspace = _start_daemon(setup, profile=profile)
    runs: dict[str, list[dict]] = {"daemon": [], "cli": []}
    left: dict[str, dict] = {}
    loads = [_load()]
    try:
        _wait_for_daemon(instance, daemon)
        for repetition in range(repetitions):
            order = ("cli", "daemon") if repetition % 2 == 0 else ("daemon", "cli")
            for path in order:
                _restore(setup)
                result = (through_daemon(setup, instance, workspace) if path == "daemon"
                          else through_cli(setup, instance))
                result["load"] = _load()
                runs[path].append(result)
                after = state(setup)
                if path in left and left[path] != after:
                    raise AssertionError(f"{path}: samma natt igen lämnade något annat efter "
                                         f"sig: {_differences(left[path], after)}")
                left[path] = after
            loads.append(_load())
    finally:
        _stop_daemon(daemon, instance)
        instance.dispose()
    if left["daemon"] != left["cli"]:
        raise AssertionError(f"vägarna lämnade olika lager eller utdata efter sig: "
                             f"{_differences(left['daemon'], left['cli'])}")
    rows = {path: {result["rows_read"] for result in results} for path, results in runs.items()}
    if len(rows["daemon"] | rows["cli"]) != 1:
        raise AssertionError(f"vägarna läste olika många rader: {rows}")
    report = {"setup": {key: str(value) if isinstance(value, (Path, dt.date)) else value
                        for key, value in asdict(setup).items()},
              "repetitions": repetitions, "runs": runs, "load_between": loads,
              "rows_read": rows["cli"].pop(), "uptime": _uptime()}
    report["median"] = {path: {key: _median([result[key] for result in results])
                               for key in results[0] if isinstance(results[0][key], (int, float))
                               and not isinstance(results[0][key], bool)}
                        for path, results in runs.items()}
    report["ratio"] = report["median"]["daemon"]["wall"] / report["median"]["cli"]["wall"]
    if profile is not None:
        report["profile"] = profile_shares(profile)
    (setup.workdir / "nightly_daemon.json").write_text(json.dumps(report, indent=2, default=str),
                                                       encoding="utf-8")
    return report


def _uptime() -> str:
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


# --- the floor: what Dagster costs on the scheduled path whatever the steps do --------------------

#: instance settings measured: finsam's own (the home's ``dagster.yaml``: run monitoring, one
#: run at a time through the QueuedRunCoordinator, which looks every second) as it is (None), or
#: with its queue block left out and the variant's added (two run_queue blocks, or one beside a
#: run_coordinator, are not a valid instance)
FLOOR_VARIANTS = {
    "finsam's instance (queue every 1 s)": None,
    "queue every 5 s (Dagster's default)": "",
    "queue every 1 s, launched in threads": ("\nrun_queue:\n  dequeue_interval_seconds: 1\n"
                                             "  dequeue_use_threads: true\n"),
    "no queue (DefaultRunCoordinator)": ("\nrun_coordinator:\n  module: dagster.core.run_coordinator"
                                         "\n  class: DefaultRunCoordinator\n"),
}
_QUEUE_BLOCK = re.compile(r"^(#[^\n]*\n)?run_queue:\n(?:[ \t]+[^\n]*\n)*", re.MULTILINE)


def floor_settings(finsams: str, variant: str | None) -> str:
    """A floor home's ``dagster.yaml``: finsam's settings as they are (``None``), or without their
    run queue block and with the variant's."""
    return finsams if variant is None else _QUEUE_BLOCK.sub("", finsams) + variant


FLOOR_JOBS = {"no-op asset": ("floor_noop", "ingenting"),
              "finsam's job, every step free": ("floor_free", "allt_utan_arbete")}


def _floor_workspace(home: Path) -> Path:
    path = home / "floor_workspace.yaml"
    path.write_text("load_from:\n" + "".join(
        f"  - python_module:\n      module_name: benchmarks.nightly_floor\n"
        f"      attribute: {location.removeprefix('floor_')}\n"
        f"      location_name: {location}\n      working_directory: {json.dumps(str(ROOT))}\n"
        for location, _ in FLOOR_JOBS.values()), encoding="utf-8")
    return path


def measure_floor(setup: Setup, repetitions: int = 5,
                  variants: dict[str, str | None] | None = None) -> dict:
    """The scheduled path (`dagster job launch` → queue → finsam's kind of daemon → one worker
    with the in-process executor) for a job that does nothing and for finsam's job with every
    step free (``benchmarks/nightly_floor.py``), ``repetitions`` times each, on a fresh home per
    instance setting: finsam's ``dagster.yaml`` plus the variant. One run of each job before the
    measured ones warms the daemon's code server (in production it has run all day)."""
    from orchestration.backfill import _start_daemon as start

    found = {}
    for variant, extra in (variants or FLOOR_VARIANTS).items():
        home = setup.workdir / "floor" / hashlib.sha256(variant.encode()).hexdigest()[:8]
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(
            floor_settings((setup.home / "dagster.yaml").read_text(encoding="utf-8"), extra),
            encoding="utf-8")
        workspace = _floor_workspace(home)
        env = {**setup.env, "DAGSTER_HOME": str(home)}
        instance = dg.DagsterInstance.from_config(str(home))
        daemon = start(env, workspace, home / "daemon.log")
        runs: dict[str, list[dict]] = {name: [] for name in FLOOR_JOBS}
        loads = [_load()]
        try:
            _wait_for_daemon(instance, daemon)
            for name, (location, job) in FLOOR_JOBS.items():
                _launched(instance, env, workspace, job, {BENCH_TAG: "uppvärmning"},
                          location=location)
            for _ in range(repetitions):
                for name, (location, job) in FLOOR_JOBS.items():
                    runs[name].append(_launched(instance, env, workspace, job,
                                                {BENCH_TAG: "golv"}, location=location))
            loads.append(_load())
        finally:
            _stop_daemon(daemon, instance)
            instance.dispose()
        found[variant] = {"runs": runs, "loads": loads, "median": {
            name: {key: _median([result[key] for result in results])
                   for key in results[0] if isinstance(results[0][key], (int, float))
                   and not isinstance(results[0][key], bool)}
            for name, results in runs.items()}}
    return {"repetitions": repetitions, "variants": found, "uptime": _uptime()}


def floor_markdown(floor: dict) -> str:
    lines = [f"Dagster's floor on this machine: median of {floor['repetitions']} runs per job and "
             "instance setting, wall from the run's creation to RUN_SUCCESS", "",
             "| instance | job | wall (median) | created | queue | worker start | run | steps, "
             "events | every run, s | load before / after |", "|---|---|---:|---:|---:|---:|---:|"
             "---|---|---|"]
    for variant, values in floor["variants"].items():
        for name, median in values["median"].items():
            lines.append(
                f"| {variant} | {name} | {median['wall']:.1f} s | {median['create_s']:.1f} | "
                f"{median['queue_s']:.1f} | {median['worker_start_s']:.1f} | "
                f"{median['run_s']:.1f} | {median['steps']:.0f}, {median['events']:.0f} | "
                f"{_walls(values['runs'][name])} | {' / '.join(values['loads'])} |")
    lines.append(f"- `uptime` at the end: {floor['uptime']}")
    return "\n".join(lines)


# --- the profile -------------------------------------------------------------------------------

#: a sample belongs to a share when one of its frames' function (file) matches; a sample may be in
#: more than one (an import inside a check counts for both)
SHARES = {
    "imports": ("_find_and_load",),
    "event-log writes": ("handle_new_event", "store_event"),
    "asset checks": ("warehouse_expectations", "assets/ingest/checks.py", "ready_for_sus",
                     "assets/outputs_checks.py", "assets/budget/checks.py"),
}


#: how py-spy (``--subprocesses``) names a run's worker in a sample's chain of processes: the
#: default run launcher asks the daemon's code server, which starts the worker with
#: multiprocessing's spawn (``... from multiprocessing.spawn import spawn_main ...``); a run
#: started with `dagster api execute_run` carries that name
_WORKER = ("multiprocessing.spawn import spawn_main", "api execute_run")
#: helpers Dagster starts beside the worker, and the worker's own background threads (with
#: ``--idle`` py-spy samples them waiting): not the run's work
_NOT_WORKER = ("watch_orphans", "multiprocessing.resource_tracker", "Thread._bootstrap ")


def profile_shares(path: Path) -> dict:
    """From py-spy's raw (collapsed) samples: the workers' samples (a sample starts with its
    chain of processes: daemon, code server, worker), and the share of them in imports,
    event-log writes and the asset checks."""
    worker: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if (count.isdigit() and any(word in stack for word in _WORKER)
                and not any(word in stack for word in _NOT_WORKER)):
            worker[stack] = worker.get(stack, 0) + int(count)
    total = sum(worker.values())
    shares = {name: sum(count for stack, count in worker.items()
                        if any(word in stack for word in words)) / max(total, 1)
              for name, words in SHARES.items()}
    return {"samples": total, "shares": shares}


# --- the report --------------------------------------------------------------------------------

def _walls(results: list[dict]) -> str:
    return ", ".join(f"{result['wall']:.1f}" for result in results)


def markdown(report: dict) -> str:
    daemon, cli = report["median"]["daemon"], report["median"]["cli"]
    setup = report["setup"]
    lines = [
        f"One förbund, the night of {setup['day']} (quarters {setup['quarters'][0]}–"
        f"{setup['quarters'][1]}, {report['rows_read']:,} rows read; nights run before it "
        f"on the same quarters: {setup.get('nights_before', 0)}), median of "
        f"{report['repetitions']} runs per path, alternating; load averages between rounds: "
        f"{' / '.join(report['load_between'])}", "",
        "| path | wall (median) | parts (median) |", "|---|---:|---|",
        (f"| scheduled: RunRequest → queue → daemon → run worker | {daemon['wall']:.1f} s | "
         f"run created {daemon['create_s']:.1f} s, in the queue until launched "
         f"{daemon['queue_s']:.1f} s, worker start (imports, definitions) "
         f"{daemon['worker_start_s']:.1f} s, run {daemon['run_s']:.1f} s (asset checks "
         f"{daemon['check_steps_s']:.1f} s) |"),
        (f"| `finsam run` | {cli['wall']:.1f} s | process start (imports, instance, definitions) "
         f"{cli['process_start_s']:.1f} s, run created {cli['create_s']:.1f} s, run "
         f"{cli['run_s']:.1f} s (asset checks {cli['check_steps_s']:.1f} s), after the run "
         f"{cli['after_run_s']:.1f} s |"), "",
        f"- scheduled / CLI: {report['ratio']:.2f} × (target ≤ 1.5 ×)",
        f"- steps, events of the scheduled run: {daemon['steps']:.0f}, {daemon['events']:.0f}; "
        f"Great Expectations suites whose frame changed (judged by GX) "
        f"{daemon['gx_suites'] - daemon['gx_suites_unchanged']:.0f} of {daemon['gx_suites']:.0f}",
        f"- scheduled path ≤ 5 s (issue 21): {'yes' if daemon['wall'] <= 5 else 'no'} "
        f"({daemon['wall']:.1f} s)",
        f"- every run, wall s: scheduled {_walls(report['runs']['daemon'])}; "
        f"CLI {_walls(report['runs']['cli'])}",
        f"- `uptime` at the end: {report['uptime']}",
    ]
    if "profile" in report:
        shares = report["profile"]["shares"]
        lines.append(f"- py-spy, the scheduled runs' workers ({report['profile']['samples']:,} "
                     "samples): " + ", ".join(f"{name} {share:.0%}" for name, share in
                                               shares.items()))
    if "floor" in report:
        lines += ["", floor_markdown(report["floor"])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("bench-nightly"))
    parser.add_argument("--scale", type=float, default=1 / 75,
                        help="the förbund's share of the national volume (default 1/75: average)")
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--nights-before", type=int, default=1,
                        help="nights run before the measured one (default 1: a typical night, "
                             "its quarters refreshed the night before; 0: the first night)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure again on the warehouse an earlier invocation prepared")
    parser.add_argument("--profile", action="store_true",
                        help="sample the scheduled runs' workers with py-spy")
    parser.add_argument("--floor", action="store_true",
                        help="also measure Dagster's floor: a no-op job and finsam's job with "
                             "every step free through the same path, per instance setting")
    parser.add_argument("--only-floor", action="store_true",
                        help="measure the floor only (on the prepared förbund's settings)")
    args = parser.parse_args()
    saved = args.workdir / "setup.json"
    if args.reuse and saved.exists():
        values = json.loads(saved.read_text(encoding="utf-8"))
        setup = Setup(**{**values, "workdir": Path(values["workdir"]),
                         "landing": Path(values["landing"]), "out": Path(values["out"]),
                         "home": Path(values["home"]), "keys": tuple(values["keys"]),
                         "day": dt.date.fromisoformat(values["day"]),
                         "quarters": tuple(values["quarters"])})
    else:
        setup = prepare(args.workdir, scale=args.scale, years=args.years, seed=args.seed,
                        nights_before=args.nights_before)
        saved.write_text(json.dumps(asdict(setup), default=str), encoding="utf-8")
    profile = args.workdir / "py-spy.txt" if args.profile else None
    if args.only_floor:
        floor = measure_floor(setup, args.repetitions)
        (args.workdir / "nightly_floor.json").write_text(json.dumps(floor, indent=2),
                                                         encoding="utf-8")
        print(floor_markdown(floor))
        return
    report = measure(setup, args.repetitions, profile=profile)
    if args.floor:
        report["floor"] = measure_floor(setup, args.repetitions)
        (args.workdir / "nightly_daemon.json").write_text(
            json.dumps(report, indent=2, default=str), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
