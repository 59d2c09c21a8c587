"""The `finsam` command. Every run goes through Dagster so it shows in the web UI."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from cli import keys as keys_cli
from cli import signoff as signoff_cli
from cli import steward as steward_cli
from finsam.errors import ConfigurationError, FinsamError


def _add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", metavar="YYYYQn",
                        help="first quarter (default: the current quarter)")
    parser.add_argument("--to", dest="last", metavar="YYYYQn",
                        help="last quarter (default: the --from quarter)")


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--targets", default=None, metavar="uppfoljning,sus",
                        help="national systems to write for, comma-separated (default: "
                             "$FINSAM_TARGETS, else uppfoljning,sus); without sus nothing "
                             "identity-bearing is written and the vault is never opened")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="finsam", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate a demo landing zone and run everything on it")
    demo.add_argument("--workdir", type=Path, default=Path("demo"),
                      help="folder for the demo's landing zone, keys, warehouse and outputs (default ./demo)")
    demo.add_argument("--seed", type=int, default=20241130, help="generator seed (default 20241130)")
    _add_targets(demo)

    run = commands.add_parser("run", help="process the landing zone for a range of quarters")
    run.add_argument("--landing", type=Path, required=True, help="the landing zone folder")
    run.add_argument("--warehouse", required=True, help="SQLAlchemy URL of the warehouse")
    run.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    _add_range(run)
    _add_targets(run)

    report = commands.add_parser("report", help="reports for any period")
    kinds = report.add_subparsers(dest="kind", required=True)
    sus = kinds.add_parser("sus", help="SUS statistics for a period (e.g. several years)")
    sus.add_argument("--warehouse", required=True, help="SQLAlchemy URL of the warehouse")
    sus.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    sus.add_argument("--from", dest="first", metavar="YYYYQn", required=True)
    sus.add_argument("--to", dest="last", metavar="YYYYQn", required=True)
    sus.add_argument("--insats", default=None, help="only this insats (its code)")
    sus.add_argument("--min-cell", type=int, default=3,
                     help="smallest count shown in the published statistics (default 3)")
    sus.add_argument("--time-limit", type=float, default=None, metavar="SEKUNDER",
                     help="longest the disclosure control may take; past it nothing is published")
    _add_targets(sus)

    backfill = commands.add_parser("backfill", help="re-run a range of quarters, one run per quarter")
    backfill.add_argument("--landing", type=Path, required=True, help="the landing zone folder")
    backfill.add_argument("--warehouse", required=True, help="SQLAlchemy URL of the warehouse")
    backfill.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    backfill.add_argument("--from", dest="first", metavar="YYYYQn", required=True)
    backfill.add_argument("--to", dest="last", metavar="YYYYQn", required=True)
    backfill.add_argument("--dry-run", action="store_true",
                          help="only say which quarters and outputs would change, and by how much")
    _add_targets(backfill)

    failures = commands.add_parser("failures", help="the data steward's review of held rows")
    failures.add_argument("--warehouse", default=None,
                          help="SQLAlchemy URL of the warehouse (default: $FINSAM_WAREHOUSE_URL)")
    actions = failures.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="held rows, newest files first")
    listing.add_argument("--source", help="only this source (insats, fk, ...)")
    listing.add_argument("--all", action="store_true", help="closed rows too")
    actions.add_parser("show", help="one held row and its history").add_argument("id", type=int)
    accept = actions.add_parser("accept", help="accept a warning; the row loads at the next run")
    accept.add_argument("id", type=int)
    accept.add_argument("--note", required=True, help="why the row is accepted")
    reopen = actions.add_parser("reopen", help="undo an acceptance")
    reopen.add_argument("id", type=int)
    reopen.add_argument("--note", default=None, help="why")
    steward_cli.add_parser(commands)
    keys_cli.add_parser(commands)   # finsam nycklar kontrollera / byt
    signoff_cli.add_parser(commands)
    return parser


def _dagster_instance(home: Path):
    # issue 16: created under a lock (two processes on a fresh home), run monitoring on, runs
    # left STARTED by a killed process marked failed with an alert
    from orchestration.instance import prepare

    return prepare(home)


def _print_summary(outcome, landing: Path, warehouse: str, out: Path, dagster_home: Path) -> None:
    from orchestration.runner import RunOutcome

    assert isinstance(outcome, RunOutcome)
    first, last = outcome.quarters
    print(f"finsam: kvartal {first}-{last} klart (körning {outcome.run_id})")
    print(f"  filer:     {outcome.total('files_new')} nya, {outcome.total('files_duplicate')} dubbletter, "
          f"{outcome.total('files_rejected')} avvisade, {outcome.total('files_unrecognised')} okända namn")
    print(f"  rader:     {outcome.total('rows_read')} lästa, {outcome.total('rows_loaded')} inlästa, "
          f"{outcome.total('rows_held')} kvarhållna för granskning")
    print(f"  leveranser: {landing}")
    print(f"  lager:      {warehouse}")
    print(f"  utdata:     {out}")
    print(f"  Dagster:    DAGSTER_HOME={dagster_home}  (webbgränssnitt: `dagster dev` i projektroten)")
    _print_readiness(warehouse, first, last)


def _print_readiness(warehouse: str, first: str, last: str) -> None:
    """What the run saw: the newest delivery per source, what waits, what each quarter lacks."""
    from assets.readiness import summary
    from warehouse.db import make_engine

    engine = make_engine(warehouse)
    try:
        with engine.connect() as connection:
            print("\n".join(summary(connection, first, last)))
    finally:
        engine.dispose()


def _run(landing: Path, warehouse: str, out: Path, first: str, last: str, pseudonym_key: str | None,
         vault_key: str | None, dagster_home: Path, *, settle: float | None = None,
         targets: tuple[str, ...] | None = None):
    from finsam.privacy import read_keys
    from orchestration import settings as resources
    from orchestration.runner import run_quarters

    # Refuse before anything starts: a missing key must not surface as a half-done run. (Issue 16:
    # also a key others may read, a guessable key, one key for both; the runner then checks both
    # against the warehouse before the run starts.)
    read_keys(pseudonym_key, vault_key)
    out.mkdir(parents=True, exist_ok=True)
    instance = _dagster_instance(dagster_home)
    resource_defs = resources.explicit(landing, warehouse, out, pseudonym_key, vault_key,
                                       settle=settle)
    return run_quarters(resource_defs, first, last, instance, targets=targets)


def _demo(args: argparse.Namespace) -> int:
    from demodata.generator import generate
    from finsam.privacy import write_new_keys
    from orchestration.partitions import quarter_label
    from sources.landing import earliest_extraction, latest_extraction

    workdir: Path = args.workdir.resolve()
    landing = workdir / "landing"
    generated = generate(landing, seed=args.seed)
    pseudonym_key, vault_key = write_new_keys(workdir / "keys")
    print(f"finsam demo: {len(generated.files)} leveransfiler i {landing}; "
          f"demonycklar i {workdir / 'keys'}")
    warehouse = f"sqlite:///{workdir / 'warehouse.db'}"
    out = workdir / "out"
    dagster_home = workdir / "dagster_home"
    first = quarter_label(earliest_extraction(landing))
    # the ledger of the last quarter is extracted after it: the data ends with that quarter
    last = quarter_label(generated.final or latest_extraction(landing))
    # the generator has finished writing: nothing in the landing zone is still uploading
    outcome = _run(landing, warehouse, out, first, last, str(pseudonym_key), str(vault_key),
                   dagster_home, settle=0, targets=_targets(args))
    _print_summary(outcome, landing, warehouse, out, dagster_home)
    if generated.late:
        _demo_late(generated, landing, warehouse, out, dagster_home, pseudonym_key, vault_key)
    for title, folder in (("Uppföljning Finsam", out / "uppfoljning"),
                          ("SUS-statistik", out / "sus"),
                          ("SUS-filer (begränsad)", out / "begransad" / "sus"),
                          ("Arbetslista (begränsad)", out / "begransad" / "arbetslista")):
        for period in sorted(folder.glob("*_*")) if folder.is_dir() else []:
            print(f"  {title}: {period}")
    return 0


def _demo_late(generated, landing: Path, warehouse: str, out: Path, dagster_home: Path,
               pseudonym_key: Path, vault_key: Path) -> None:
    """The board signs off the last quarter; a late correction arrives; the quarter is run
    again: its signed files stay, the corrections go to rattelser/."""
    from assets.signoff import CORRECTIONS, sign_off
    from orchestration.partitions import quarter_label
    from warehouse.db import make_engine

    signed = quarter_label(generated.late_quarter)
    engine = make_engine(warehouse)
    try:
        sign_off(engine, out, signed, note="demo: styrelsens sammanträde", who="demo")
    finally:
        engine.dispose()
    for path in generated.late:
        target = landing / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    print(f"\nfinsam demo: {signed} signerat; {len(generated.late)} sen rättelse levererad efter "
          f"signeringen, {signed} körs igen")
    outcome = _run(landing, warehouse, out, signed, signed, str(pseudonym_key), str(vault_key),
                   dagster_home, settle=0)
    _print_summary(outcome, landing, warehouse, out, dagster_home)
    print(f"  rättelser:  {out / CORRECTIONS / signed} (de signerade filerna är oförändrade)")


def _cmd_run(args: argparse.Namespace) -> int:
    from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV
    from orchestration.runner import current_quarter

    first = args.first or current_quarter()
    last = args.last or first
    chosen = _targets(args)
    _not_after_today(first, last)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or args.out / "dagster_home")
    outcome = _run(args.landing, args.warehouse, args.out, first, last,
                   os.environ.get(PSEUDONYM_KEY_ENV), os.environ.get(VAULT_KEY_ENV), dagster_home,
                   targets=chosen)
    _print_summary(outcome, args.landing, args.warehouse, args.out, dagster_home)
    return 0


def _keys_from_environment() -> tuple[str, str]:
    from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV, read_keys

    paths = (os.environ.get(PSEUDONYM_KEY_ENV), os.environ.get(VAULT_KEY_ENV))
    read_keys(*paths)
    return paths


def _cmd_backfill(args: argparse.Namespace) -> int:
    from assets.ingest.preview import describe, preview
    from orchestration import settings as resources
    from orchestration.backfill import quarters, run_backfill
    from warehouse.db import make_engine, migrate

    quarters(args.first, args.last)
    chosen = _targets(args)
    _not_after_today(args.first, args.last)
    if args.dry_run:
        engine = make_engine(args.warehouse)
        migrate(engine)
        print(f"Torrkörning {args.first}-{args.last}: inget ändras.")
        print(describe(preview(args.landing, engine, args.first, args.last)))
        return 0
    pseudonym_key, vault_key = _keys_from_environment()
    args.out.mkdir(parents=True, exist_ok=True)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or args.out / "dagster_home")
    instance = _dagster_instance(dagster_home)
    resource_defs = resources.explicit(args.landing, args.warehouse, args.out, pseudonym_key,
                                       vault_key)
    result = run_backfill(resource_defs, args.first, args.last, instance, targets=chosen,
                          progress=lambda quarter, state: print(f"  {quarter}: {state}"))
    verb = "återupptagen" if result.resumed else "startad"
    print(f"Backfill {result.backfill_id} {verb}: {len(result.done)} kvartal körda, "
          f"{len(result.skipped)} redan klara.")
    if result.failed:
        for quarter, reason in result.failed.items():
            print(f"finsam: {quarter} misslyckades: {reason}", file=sys.stderr)
        print(f"Rätta felet och kör samma kommando igen: bara {', '.join(result.failed)} körs om.",
              file=sys.stderr)
        return 1
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from assets.sus.assets import folder_for
    from cli.checks import check_report_request
    from orchestration import settings as chosen_settings
    from orchestration import settings as resources
    from orchestration.partitions import parse_quarter, quarter_end
    from orchestration.runner import run_quarters

    if args.min_cell < 1:
        raise ValueError("--min-cell måste vara minst 1")
    if "sus" not in chosen_settings.targets(given=args.targets):
        raise ConfigurationError("--targets", "report sus kräver att sus är valt")
    # an unknown insats or a period outside the data is a mistake, not an all-zero report
    check_report_request(args.warehouse, args.first, args.last, args.insats)
    args.out.mkdir(parents=True, exist_ok=True)
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or args.out / "dagster_home")
    instance = _dagster_instance(dagster_home)
    # the statistics read the warehouse only: no landing zone and no keys are involved (issue 16:
    # keys that are set are checked against the warehouse all the same)
    resource_defs = resources.explicit(Path("."), args.warehouse, args.out,
                                       os.environ.get("FINSAM_PSEUDONYM_KEY_FILE", ""),
                                       os.environ.get("FINSAM_VAULT_KEY_FILE", ""))
    config = {"insats": args.insats, "min_cell": args.min_cell}
    if args.time_limit is not None:
        if args.time_limit <= 0:
            raise ValueError("--time-limit måste vara större än 0")
        config["tidsgrans_sekunder"] = args.time_limit
    outcome = run_quarters(resource_defs, args.first, args.last, instance,
                           assets=["sus_statistics"], asset_config={"sus_statistics": config},
                           tags={"finsam/command": "report sus"})
    folder = folder_for(args.out, parse_quarter(args.first), quarter_end(args.last), args.insats)
    print(f"SUS-statistik {args.first}-{args.last} klar (körning {outcome.run_id}): {folder}")
    return 0


def _targets(args: argparse.Namespace) -> tuple[str, ...]:
    """The chosen targets, read in the one place that reads settings."""
    from orchestration import settings as chosen_settings

    return chosen_settings.targets(given=getattr(args, "targets", None))


def _not_after_today(first: str, last: str) -> None:
    from cli.checks import check_not_after_today

    check_not_after_today(first, last)


def _cmd_failures(args: argparse.Namespace) -> int:
    from cli import steward as steward_cli

    url = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt FINSAM_WAREHOUSE_URL")
    return steward_cli.run(args, url)


def main(argv: list[str] | None = None) -> int:
    # Dagster marks single-run backfills as beta; the warning is for developers, not for the steward.
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    args = _parser().parse_args(argv)
    handlers = {"demo": _demo, "run": _cmd_run, "report": _cmd_report, "backfill": _cmd_backfill,
                "failures": _cmd_failures, "steward": steward_cli.steward, "nycklar": keys_cli.run,
                "signoff": signoff_cli.signoff}
    try:
        return handlers[args.command](args)
    except FinsamError as exc:
        print(f"finsam: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigurationError) else 1
    except ValueError as exc:
        print(f"finsam: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
