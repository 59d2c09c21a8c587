"""The `finsam` command. Every run goes through Dagster so it shows in the web UI.

Every mistake a person can make with the arguments or the settings is found before anything is
written (``cli/preflight.py``) and said in one Swedish line, exit status 2. A run that fails says
so in one line, exit status 1, and writes the whole story (masked like everything finsam writes)
to the log file the line names.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
import traceback
import warnings
from pathlib import Path

from cli import keys as keys_cli
from cli import preflight
from cli import signoff as signoff_cli
from cli import steward as steward_cli
from finsam.errors import ConfigurationError, FinsamError, RunFailed

LOG_ENV = "FINSAM_LOG_FILE"
DESCRIPTION = ("finsam: uppföljningen av samordningsförbundets insatser. Varje körning går genom "
               "Dagster och syns i webbgränssnittet (`dagster dev`).")

# argparse's own words, in Swedish like the rest of the tool
_SWEDISH = {
    "usage: ": "användning: ",
    "positional arguments": "argument",
    "options": "flaggor",
    "show this help message and exit": "visa den här hjälpen och avsluta",
    "the following arguments are required: %s": "saknar %s",
    "unrecognized arguments: %s": "okända argument: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "%(value)r finns inte; välj bland "
                                                           "%(choices)s",
    "invalid %(type)s value: %(value)r": "%(value)r är inget giltigt värde",
    "expected one argument": "behöver ett värde",
    "expected at most one argument": "tar högst ett värde",
    "expected at least one argument": "behöver minst ett värde",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "ambiguous option: %(option)s could match %(matches)s": "%(option)s kan betyda %(matches)s",
    "not allowed with argument %s": "går inte ihop med %s",
    "one of the arguments %s is required": "ett av argumenten %s behövs",
    "%(prog)s: error: %(message)s\n": "%(prog)s: %(message)s\n",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "okänt kommando %(parser_name)r "
                                                             "(välj bland %(choices)s)",
    "ignored explicit argument %r": "%r används inte",
    "unexpected option string: %s": "oväntad flagga: %s",
}
argparse._ = lambda text: _SWEDISH.get(text, text)


class UsageError(Exception):
    """A mistake in the command line itself (argparse found it)."""


class Parser(argparse.ArgumentParser):
    """argparse with Swedish help, and a mistake as one line (no usage block)."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (se `{self.prog} --help`)")


def _share(parser: argparse.ArgumentParser, *flags: str) -> None:
    """Let ``flags`` of ``parser`` be given after any of its sub-commands too (`finsam failures
    list --warehouse URL` as well as `finsam failures --warehouse URL list`)."""
    shared = [action for action in parser._actions if set(action.option_strings) & set(flags)]
    for sub in parser._actions:
        if not isinstance(sub, argparse._SubParsersAction):
            continue
        for child in set(sub.choices.values()):
            for action in shared:
                child.add_argument(*action.option_strings, dest=action.dest, help=action.help,
                                   metavar=action.metavar, type=action.type,
                                   default=argparse.SUPPRESS)
            _share(child, *flags)


def _add_range(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--from", dest="first", metavar="ÅÅÅÅKn",
                        help=f"första kvartal, t.ex. 2024Q1 ({what})")
    parser.add_argument("--to", dest="last", metavar="ÅÅÅÅKn",
                        help="sista kvartal (standard: samma som --from)")


def _add_places(parser: argparse.ArgumentParser, *, landing: bool = True) -> None:
    if landing:
        parser.add_argument("--landing", type=Path, metavar="MAPP",
                            help="leveranszonen: mappen parterna levererar till")
    parser.add_argument("--warehouse", metavar="URL",
                        help="lagrets SQLAlchemy-URL, t.ex. sqlite:///finsam.db "
                             "(standard: $FINSAM_WAREHOUSE_URL)")
    parser.add_argument("--out", type=Path, metavar="MAPP",
                        help="mappen för utdata (standard: $FINSAM_OUT)")


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--targets", default=None, metavar="uppfoljning,sus",
                        help="nationella mottagare, kommaseparerade (standard: $FINSAM_TARGETS, "
                             "annars uppfoljning,sus); utan sus skrivs inget med personnummer och "
                             "valvet öppnas aldrig")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="finsam", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO",
                                     title="kommandon")

    demo = commands.add_parser(
        "demo", help="gör en demoleveranszon och kör allt på den",
        description="Gör en realistisk leveranszon (tre insatser, alla källor, tre år, med "
                    "vanliga fel), demonycklar, ett SQLite-lager och en Dagster-hemmapp, kör allt "
                    "och skriver var utdata finns.")
    demo.add_argument("--workdir", type=Path, default=Path("demo"), metavar="MAPP",
                      help="mapp för demots leveranser, nycklar, lager och utdata (standard ./demo)")
    demo.add_argument("--seed", type=int, default=20241130, metavar="TAL",
                      help="slumptalsfrö för leveranserna (standard 20241130)")
    _add_targets(demo)

    run = commands.add_parser(
        "run", help="läs in nya leveranser och gör utdata för kvartalen",
        description="Läser in varje ny leverans i leveranszonen och gör utdata för kvartalen "
                    "--from till --to (standard: kvartalet som pågår). Nycklarna läses från "
                    "FINSAM_PSEUDONYM_KEY_FILE och FINSAM_VAULT_KEY_FILE.")
    _add_places(run)
    _add_range(run, "standard: kvartalet som pågår")
    _add_targets(run)

    report = commands.add_parser("report", help="rapporter för valfri period",
                                 description="Rapporter för valfri period, t.ex. flera år.")
    kinds = report.add_subparsers(dest="kind", required=True, metavar="RAPPORT", title="rapporter")
    kinds.add_parser("sus", help="SUS-statistik för en period (t.ex. flera år)",
                     description="SUS-statistiken för perioden --from till --to, ur lagret.")
    _add_places(report, landing=False)
    _add_range(report, "krävs")
    report.add_argument("--insats", default=None, metavar="KOD", help="bara denna insats (koden)")
    report.add_argument("--min-cell", type=int, default=3, metavar="TAL",
                        help="minsta antal som visas i den publicerade statistiken (standard 3)")
    report.add_argument("--time-limit", type=float, default=None, metavar="SEKUNDER",
                        help="längsta tid röjandekontrollen får ta; efter den publiceras inget")
    _add_targets(report)
    _share(report, "--warehouse", "--out", "--from", "--to", "--insats", "--min-cell",
           "--time-limit", "--targets")

    backfill = commands.add_parser(
        "backfill", help="kör om en rad kvartal som en Dagster-backfill",
        description="Kör om kvartalen --from till --to som en backfill i Dagster (syns under "
                    "Backfills i webbgränssnittet), ett kvartal i taget. Kör samma kommando igen "
                    "efter ett fel: bara kvartalen som inte lyckades körs om.")
    _add_places(backfill)
    _add_range(backfill, "krävs")
    backfill.add_argument("--dry-run", action="store_true",
                          help="ändra inget: säg bara vilka kvartal och utdata som skulle ändras")
    _add_targets(backfill)

    failures = commands.add_parser(
        "failures", help="förvaltarens granskning av kvarhållna rader",
        description="Förvaltarens granskning av kvarhållna rader från terminalen.")
    failures.add_argument("--warehouse", default=None, metavar="URL",
                          help="lagrets SQLAlchemy-URL (standard: $FINSAM_WAREHOUSE_URL)")
    actions = failures.add_subparsers(dest="action", required=True, metavar="ÅTGÄRD",
                                      title="åtgärder")
    listing = actions.add_parser("list", help="kvarhållna rader, nyaste filer först")
    listing.add_argument("--source", metavar="KÄLLA", help="bara denna källa (insats, fk, ...)")
    listing.add_argument("--all", action="store_true", help="även stängda rader")
    actions.add_parser("show", help="en kvarhållen rad och dess historik").add_argument(
        "id", type=int, metavar="ID", help="radens nummer (ID i listan)")
    accept = actions.add_parser("accept",
                                help="godkänn en varning; raden läses in vid nästa körning")
    accept.add_argument("id", type=int, metavar="ID", help="radens nummer (ID i listan)")
    accept.add_argument("--note", required=True, metavar="TEXT", help="varför raden godkänns")
    reopen = actions.add_parser("reopen", help="ångra ett godkännande")
    reopen.add_argument("id", type=int, metavar="ID", help="radens nummer (ID i listan)")
    reopen.add_argument("--note", default=None, metavar="TEXT", help="varför")
    _share(failures, "--warehouse")

    steward_cli.add_parser(commands)
    _share(commands.choices["steward"], "--warehouse")
    keys_cli.add_parser(commands)   # finsam nycklar kontrollera / byt / skapa
    signoff_cli.add_parser(commands)
    return parser


# -- places, instance, log ------------------------------------------------------------------------

def _dagster_home(out: Path) -> Path:
    given = os.environ.get("DAGSTER_HOME")
    return preflight.absolute(given) if given else out / "dagster_home"


def _dagster_instance(home: Path):
    # created under a lock (two processes on a fresh home), telemetry off, run monitoring on, runs
    # left STARTED by a killed process marked failed with an alert (issue 16)
    from orchestration.instance import prepare

    return prepare(home)


def log_file() -> Path:
    """Where the whole story of a failure goes: ``FINSAM_LOG_FILE``, else ``finsam.log`` in the
    Dagster home (where alerts.jsonl is), else in the user's state folder."""
    if os.environ.get(LOG_ENV):
        return preflight.absolute(os.environ[LOG_ENV])
    if os.environ.get("DAGSTER_HOME"):
        return preflight.absolute(os.environ["DAGSTER_HOME"]) / "finsam.log"
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "finsam" / "finsam.log"


def _log(title: str, details: str) -> Path:
    from finsam.masking import mask_text

    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {stamp} {mask_text(title)}\n{mask_text(details).rstrip()}\n")
    return path


# -- the commands ---------------------------------------------------------------------------------

_OPTION = {"first": "--from", "last": "--to"}


def _required(args: argparse.Namespace, *names: str) -> None:
    missing = [_OPTION.get(name, f"--{name}") for name in names
               if getattr(args, name, None) in (None, "")]
    if missing:
        raise ConfigurationError(" och ".join(missing),
                                 f"saknas; se `finsam {args.command} --help`")


def _places(args: argparse.Namespace, *, landing: bool = True) -> None:
    """The run's folders and warehouse, checked and absolute (defaults from the environment)."""
    args.warehouse = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if getattr(args, "out", None) is None and os.environ.get("FINSAM_OUT"):
        args.out = Path(os.environ["FINSAM_OUT"])
    if landing and getattr(args, "landing", None) is None and os.environ.get("FINSAM_LANDING"):
        args.landing = Path(os.environ["FINSAM_LANDING"])
    _required(args, *(["landing"] if landing else []), "warehouse", "out")
    if landing:
        args.landing = preflight.landing_zone(args.landing)
    args.out = preflight.output_folder(args.out)
    if landing:
        preflight.apart(args.landing, args.out)


def _keys(url: str | None) -> tuple[str, str]:
    from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV, read_keys

    paths = (os.environ.get(PSEUDONYM_KEY_ENV), os.environ.get(VAULT_KEY_ENV))
    preflight.keys(*paths, url)
    # also refused: a key file others may read, a guessable key, one key for both purposes
    read_keys(*paths)
    return (str(preflight.absolute(paths[0])), str(preflight.absolute(paths[1])))


def _print_summary(outcome, landing: Path, warehouse: str, out: Path, dagster_home: Path) -> None:
    first, last = outcome.quarters
    print(f"finsam: kvartal {first}-{last} klart (körning {outcome.run_id})")
    print(f"  filer:      {outcome.total('files_new')} nya, {outcome.total('files_duplicate')} "
          f"dubbletter, {outcome.total('files_rejected')} avvisade, "
          f"{outcome.total('files_unrecognised')} okända namn")
    print(f"  rader:      {outcome.total('rows_read')} lästa, {outcome.total('rows_loaded')} "
          f"inlästa, {outcome.total('rows_held')} kvarhållna för granskning")
    print(f"  leveranser: {landing}")
    print(f"  lager:      {warehouse}")
    print(f"  utdata:     {out}")
    print(f"  granskning: {out / 'steward' / 'failures.html'}")
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


def _run(landing: Path, warehouse: str, out: Path, first: str, last: str, keys: tuple[str, str],
         dagster_home: Path, *, settle: float | None = None, reference: str | None = None,
         first_quarter: str | None = None, targets: tuple[str, ...] | None = None):
    from orchestration import settings as resources
    from orchestration.runner import run_quarters

    out.mkdir(parents=True, exist_ok=True)
    instance = _dagster_instance(dagster_home)
    resource_defs = resources.explicit(landing, warehouse, out, *keys, settle=settle,
                                       reference=reference)
    return run_quarters(resource_defs, first, last, instance, first_quarter=first_quarter,
                        targets=targets)


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestration.partitions import current_quarter

    chosen = _targets(args)
    _places(args)
    first, last = preflight.quarter_range(args.first or current_quarter(),
                                          args.last or args.first or current_quarter())
    args.warehouse = preflight.warehouse_url(args.warehouse, must_exist=False)
    keys = _keys(args.warehouse)
    dagster_home = _dagster_home(args.out)
    outcome = _run(args.landing, args.warehouse, args.out, first, last, keys, dagster_home,
                   targets=chosen)
    _print_summary(outcome, args.landing, args.warehouse, args.out, dagster_home)
    return 0


def _cmd_backfill(args: argparse.Namespace) -> int:
    from finsam.periods import quarter
    from finsam.targets import TARGETS_ENV
    from orchestration import settings
    from orchestration.backfill import run_backfill

    _required(args, "first", "last")
    first, last = preflight.quarter_range(args.first, args.last)
    chosen = _targets(args)
    if args.dry_run:
        return _dry_run(args, first, last)
    _places(args)
    args.warehouse = preflight.warehouse_url(args.warehouse, must_exist=False)
    keys = _keys(args.warehouse)
    args.out.mkdir(parents=True, exist_ok=True)
    home = _dagster_home(args.out)
    instance = _dagster_instance(home)
    configured = settings.first_quarter()
    partitions_from = first if quarter(first) < quarter(configured) else configured
    environment = settings.as_environment(args.landing, args.warehouse, args.out, *keys,
                                          partitions_from)
    # the daemon's runs read the targets from the environment, as the schedule's do
    environment[TARGETS_ENV] = ",".join(chosen)
    result = run_backfill(environment, first, last, instance, home=home,
                          log=home / "backfill_daemon.log",
                          progress=lambda key, state: print(f"  {key}: {state}", flush=True))
    verb = (f"återupptagen (fortsätter {result.parent_id})" if result.resumed else "startad")
    print(f"Backfill {result.backfill_id} {verb}: {len(result.done)} kvartal körda, "
          f"{len(result.skipped)} redan klara. I webbgränssnittet: Overview → Backfills.")
    if result.failed:
        path = _log(f"backfill {result.backfill_id}", "\n".join(
            f"{key}: {reason}" for key, reason in result.failed.items()))
        print(f"finsam: {', '.join(result.failed)} misslyckades; rätta felet och kör samma "
              f"kommando igen, bara {', '.join(result.failed)} körs om (detaljer i {path} och i "
              "körningarna i webbgränssnittet)", file=sys.stderr)
        return 1
    return 0


def _dry_run(args: argparse.Namespace, first: str, last: str) -> int:
    from sqlalchemy.engine import make_url

    from assets.ingest.preview import describe, preview
    from warehouse.db import make_engine, migrate

    args.warehouse = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if args.landing is None and os.environ.get("FINSAM_LANDING"):
        args.landing = Path(os.environ["FINSAM_LANDING"])
    _required(args, "landing", "warehouse")
    landing = preflight.landing_zone(args.landing)
    url = preflight.warehouse_url(args.warehouse, must_exist=False)
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and not Path(database).is_file():
        # no warehouse yet: compare with an empty one in memory, so nothing is created
        url = "sqlite://"
    engine = make_engine(url)
    migrate(engine)
    print(f"Torrkörning {first}-{last}: inget ändras.")
    print(describe(preview(landing, engine, first, last)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from assets.sus.assets import NO_DATA, folder_for
    from cli.checks import check_report_request
    from orchestration import settings as resources
    from orchestration.partitions import parse_quarter, quarter_end
    from orchestration.runner import run_quarters

    _required(args, "first", "last")
    first, last = preflight.quarter_range(args.first, args.last)
    if args.min_cell < 1:
        raise ConfigurationError("--min-cell", "måste vara minst 1")
    if args.time_limit is not None and args.time_limit <= 0:
        raise ConfigurationError("--time-limit", "måste vara större än 0")
    if "sus" not in _targets(args):
        raise ConfigurationError("--targets", "report sus kräver att sus är valt")
    _places(args, landing=False)
    args.warehouse = preflight.warehouse_url(args.warehouse, must_exist=True)
    insats = preflight.insats(args.insats, args.warehouse)
    # a period before the first data or after today is a mistake, not an all-zero report
    check_report_request(args.warehouse, first, last, insats)
    args.out.mkdir(parents=True, exist_ok=True)
    instance = _dagster_instance(_dagster_home(args.out))
    # the statistics read the warehouse only: no landing zone is involved (keys that are set are
    # checked against the warehouse all the same)
    resource_defs = resources.explicit(args.out, args.warehouse, args.out,
                                       os.environ.get("FINSAM_PSEUDONYM_KEY_FILE", ""),
                                       os.environ.get("FINSAM_VAULT_KEY_FILE", ""))
    config = {"insats": insats, "min_cell": args.min_cell}
    if args.time_limit is not None:
        config["tidsgrans_sekunder"] = args.time_limit
    outcome = run_quarters(resource_defs, first, last, instance,
                           assets=["sus_statistics"], asset_config={"sus_statistics": config},
                           tags={"finsam/command": "report sus"})
    if outcome.metadata.get("sus_statistics", {}).get("status") == NO_DATA:
        print(f"SUS-statistik {first}-{last}: ingen data för perioden, inga filer skrivna "
              f"(körning {outcome.run_id}).")
        return 0
    folder = folder_for(args.out, parse_quarter(first), quarter_end(last), insats)
    signed = outcome.metadata.get("sus_statistics", {}).get("signerad_rattelse")
    if signed:
        # a signed-off range keeps its files: say so, and where the changes since went
        changes = sum(view["ändringar"] for view in signed)
        where = sorted({folder for view in signed for folder in view["rättelser"]})
        print(f"SUS-statistik {first}-{last} är signerad (körning {outcome.run_id}): {folder} "
              f"är oförändrad; {changes} ändringar sedan signeringen"
              + (f" i {', '.join(where)}" if where else ""))
        return 0
    print(f"SUS-statistik {first}-{last} klar (körning {outcome.run_id}): {folder}")
    return 0


def _cmd_failures(args: argparse.Namespace) -> int:
    url = preflight.warehouse_url(args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL"),
                                  must_exist=True)
    return steward_cli.run(args, url)


def _cmd_steward(args: argparse.Namespace) -> int:
    args.warehouse = preflight.warehouse_url(
        args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL"), must_exist=True)
    if getattr(args, "out", None) is not None:
        args.out = preflight.absolute(args.out)
    return steward_cli.steward(args)


# -- the demo -------------------------------------------------------------------------------------

def _demo(args: argparse.Namespace) -> int:
    from demodata.generator import generate
    from finsam.periods import label, quarter
    from finsam.privacy import write_new_keys
    from orchestration.partitions import current_quarter, quarter_end, quarter_label
    from sources.landing import earliest_extraction, latest_extraction

    workdir = preflight.output_folder(args.workdir)
    landing = workdir / "landing"
    generated = generate(landing, seed=args.seed)
    keys = tuple(str(path) for path in write_new_keys(workdir / "keys"))
    print(f"finsam demo: {len(generated.files)} leveransfiler i {landing}; "
          f"demonycklar i {workdir / 'keys'} (använd dem aldrig för riktiga uppgifter)")
    warehouse = f"sqlite:///{workdir / 'warehouse.db'}"
    out = workdir / "out"
    dagster_home = workdir / "dagster_home"
    first = quarter_label(earliest_extraction(landing))
    # the ledger of the last quarter is extracted after it: the data ends with that quarter
    last = quarter_label(generated.final or latest_extraction(landing))
    # The demo's landing zone is a picture of the day its data ends (the ledger and a correction
    # come later, as they do): freshness is measured against that day. The generator has finished
    # writing: nothing in it is still uploading.
    reference = quarter_end(last).isoformat()
    options = {"settle": 0, "reference": reference, "first_quarter": first,
               "targets": _targets(args)}
    outcome = _run(landing, warehouse, out, first, last, keys, dagster_home, **options)
    _print_summary(outcome, landing, warehouse, out, dagster_home)
    if generated.late:
        _demo_late(generated, landing, warehouse, out, dagster_home, keys, options)
    now = current_quarter()
    if quarter(last) < quarter(now):
        # every quarter up to today is materialised, so the UI shows no quarter missing; an output
        # is written only where data reaches into the period (registers extracted after the last
        # quarter describe the spells still open then)
        after = label(quarter(last) + 1)
        empty = _run(landing, warehouse, out, after, now, keys, dagster_home, **options)
        print(f"finsam: kvartal {after}-{now} (efter demots data) körda så att inget kvartal "
              f"saknas i Dagster; utdata bara där registren når in i perioden "
              f"(körning {empty.run_id})")
    env = _write_dagster_env(workdir, landing, warehouse, out, dagster_home, keys, first, reference)
    _print_demo_guide(out, dagster_home, env)
    return 0


def _demo_late(generated, landing: Path, warehouse: str, out: Path, dagster_home: Path,
               keys: tuple[str, str], options: dict) -> None:
    """The board signs off the last quarter (and, when it ends a year, the year: the
    årsredovisning covers 2024Q1-2024Q4); a late correction arrives; the quarter is run again:
    its signed files stay, the corrections go to rattelser/."""
    from assets.signoff import CORRECTIONS, Span, sign_off
    from orchestration.partitions import quarter_label
    from warehouse.db import make_engine

    signed = quarter_label(generated.late_quarter)
    spans = [Span(signed, signed)]
    if generated.late_quarter.month == 12:
        spans.append(Span(f"{generated.late_quarter.year}Q1", signed))
    engine = make_engine(warehouse)
    try:
        for span in spans:
            sign_off(engine, out, span, note="demo: styrelsens sammanträde", who="demo")
    finally:
        engine.dispose()
    for path in generated.late:
        target = landing / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    print(f"\nfinsam demo: {' och '.join(str(span) for span in spans)} signerat; "
          f"{len(generated.late)} sen rättelse levererad efter "
          f"signeringen, {signed} körs igen")
    outcome = _run(landing, warehouse, out, signed, signed, keys, dagster_home, **options)
    _print_summary(outcome, landing, warehouse, out, dagster_home)
    folders = ", ".join(str(out / CORRECTIONS / span.label) for span in spans)
    print(f"  rättelser:  {folders} (de signerade filerna är oförändrade)")


def _targets(args: argparse.Namespace) -> tuple[str, ...]:
    """The chosen targets, read in the one place that reads settings."""
    from orchestration import settings as chosen_settings

    return chosen_settings.targets(given=getattr(args, "targets", None))


def _write_dagster_env(workdir: Path, landing: Path, warehouse: str, out: Path, home: Path,
                       keys: tuple[str, str], first: str, reference: str) -> Path:
    """The settings `dagster dev` needs to show the demo, as a file the shell can read."""
    from orchestration import settings

    values = {"DAGSTER_HOME": str(home), settings.LANDING_ENV: str(landing),
              settings.WAREHOUSE_ENV: warehouse, settings.OUT_ENV: str(out),
              "FINSAM_PSEUDONYM_KEY_FILE": keys[0], "FINSAM_VAULT_KEY_FILE": keys[1],
              settings.FIRST_QUARTER_ENV: first,
              settings.FRESHNESS_REFERENCE_ENV: reference}
    path = workdir / "dagster.env"
    path.write_text("".join(f"export {name}={shlex.quote(value)}\n"
                            for name, value in values.items()), encoding="utf-8")
    return path


def _newest(out: Path, pattern: str) -> Path | None:
    found = sorted(out.glob(pattern))
    return found[-1] if found else None


def _print_demo_guide(out: Path, dagster_home: Path, env: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    dagster = Path(sys.executable).with_name("dagster")
    print("\nSå här ser du resultatet:")
    print(f"  Förvaltarens sida: {out / 'steward' / 'failures.html'}")
    print("    (i webbläsaren med inloggning: `finsam steward user add NAMN --roll "
          "dataansvarig`, sedan `finsam steward serve`; se README)")
    print("  Styrelsens filer:")
    for pattern in ("budget/*/budgetuppfoljning.html", "delarsrapport/*/delarsrapport.html",
                    "arsredovisning/*/arsredovisning.html", "sus/*/sus_statistik.html",
                    "uppfoljning/*/uppfoljning_finsam.xlsx"):
        newest = _newest(out, pattern)
        if newest is not None:
            print(f"    {newest}  (alla: {newest.parent.parent})")
    print("  Begränsade filer (SUS-filer, arbetslista, intern statistik; mapp 0700): "
          f"{out / 'begransad'}")
    print(f"  Datakvalitet (Great Expectations): {out / 'steward' / 'gx' / 'oversikt.html'}")
    command = f"cd {shlex.quote(str(root))} && . {shlex.quote(str(env))} && {dagster} dev"
    print(f"  Dagsters webbgränssnitt: {command}")
    print(f"    (öppna sedan http://127.0.0.1:3000; körningarna finns i {dagster_home})")


# -- main -----------------------------------------------------------------------------------------

HANDLERS = {"demo": _demo, "run": _cmd_run, "report": _cmd_report, "backfill": _cmd_backfill,
            "failures": _cmd_failures, "steward": _cmd_steward, "nycklar": keys_cli.run,
            "signoff": signoff_cli.signoff}


def main(argv: list[str] | None = None) -> int:
    # Dagster's beta and preview notes are for developers, not for the people running finsam
    warnings.filterwarnings("ignore", message=".*is currently in (beta|preview).*")
    try:
        args = _parser().parse_args(argv)
        return HANDLERS[args.command](args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (ConfigurationError, ValueError) as exc:
        print(f"finsam: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        path = _log(str(exc), exc.details or str(exc))
        print(f"finsam: {' '.join(str(exc).split())} (detaljer i {path})", file=sys.stderr)
        return 1
    except FinsamError as exc:
        path = _log(str(exc), traceback.format_exc())
        print(f"finsam: {' '.join(str(exc).split())} (detaljer i {path})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("finsam: avbrutet", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (a bug: the story goes to the log, one line to the terminal)
        path = _log(f"oväntat fel {type(exc).__name__}", traceback.format_exc())
        print(f"finsam: oväntat fel ({type(exc).__name__}); detaljer i {path}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
