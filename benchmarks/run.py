"""The national benchmark: finsam over generated landing zones, against a bare-minimum reference.

    python -m benchmarks.run --scale 0.01 --workdir bench-work [--postgres URL] [--workers 2]

For every förbund: finsam's ingestion of all eight sources (the functions the Dagster assets call),
then its outputs (steward review, SUS statistics over the whole period, budget follow-up at each
year's end). Reported per stage (``benchmarks.stages``) and end to end: wall and CPU time, rows per
second, peak memory, warehouse size. The reference reads the same files with pandas, hashes the
identity numbers, checks the code lists and bulk-loads the rows, and nothing else. Then one more
day's deliveries (``scale_generator.next_day``) measure the nightly run. Results go to
``<workdir>/results.json`` and, as Markdown, to standard output.

The nightly figures here call the functions the assets call, in one process;
``python -m benchmarks.nightly_daemon`` measures one förbund's night the way the schedule launches
it, through a real `dagster-daemon`, beside `finsam run`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

from benchmarks.scale_generator import generate_national, next_day
from benchmarks.stages import StageClock, install

ORDER = ("budget", "insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi")
STAGE_ORDER = ("read", "validate", "normalise + pseudonymise", "consent", "load", "SUS", "budget")


# --- finsam -------------------------------------------------------------------------------------

def _keys(workdir: Path):
    from finsam.privacy import Keys, Pseudonymiser, Vault, read_key_file, write_new_keys

    pseudonym_key, vault_key = write_new_keys(workdir / "keys")
    return Keys(Pseudonymiser(read_key_file(pseudonym_key, "P")), Vault(read_key_file(vault_key, "V")))


def _finsam_one(args: tuple) -> dict:
    """finsam over one förbund's landing zone; returns rows, stage times and outcome counts.

    ``outputs``: False (ingestion only), True (every year's reports, as a backfill writes them) or
    a date (the nightly: the reports of that day's quarter only)."""
    landing, url, workdir, outputs, *only = args
    sources = only[0] if only else ORDER
    clock = StageClock()
    restore = install(clock)
    # imported after the clock is installed, so these names are the timed wrappers
    from assets.budget.assets import shared_inputs, write_quarter
    from assets.ingest.run import ingest_source
    from assets.steward.assets import refresh_conflicts
    from assets.steward.page import write_reports
    from assets.sus.assets import write_statistics
    from assets.sus.warehouse_frames import read_catalogue, read_spells
    from warehouse.db import make_engine, migrate

    started, cpu = time.perf_counter(), time.process_time()
    try:
        engine = make_engine(url)
        migrate(engine)
        keys = _keys(Path(workdir))
        rows = 0
        for source in sources:
            rows += ingest_source(source, Path(landing), engine, keys).rows_read
        if outputs:
            out = Path(workdir) / "out"
            with engine.begin() as connection:
                refresh_conflicts(connection)
                write_reports(connection, out)
            with engine.connect() as connection:
                spells = read_spells(connection)
                if isinstance(outputs, date):
                    quarter = pd.Period(outputs, freq="Q")
                    write_statistics(spells, read_catalogue(connection, outputs.year),
                                     quarter.start_time.date(), quarter.end_time.date(),
                                     out / "sus", 3)
                    write_quarter(connection, out, quarter.year, quarter.quarter)
                else:
                    years = sorted(pd.to_datetime(spells["inskrivningsdatum"]).dt.year.unique())
                    if years:
                        first, last = date(int(years[0]), 1, 1), date(int(years[-1]), 12, 31)
                        write_statistics(spells, read_catalogue(connection, last.year), first,
                                         last, out / "sus", 3)
                    shared = shared_inputs(connection)
                    for year in years:
                        write_quarter(connection, out, int(year), 4, shared)
        engine.dispose()
    finally:
        restore()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    stages, stage_cpu = dict(clock.wall), dict(clock.cpu)
    stages["_other"] = wall - sum(stages.values())
    stage_cpu["_other"] = cpu - sum(stage_cpu.values())
    return {"rows": rows, "wall": wall, "cpu": cpu, "stages": stages, "stage_cpu": stage_cpu}


# --- the bare-minimum reference ------------------------------------------------------------------

READ = {  # source -> (encoding, separator, identity column, code column, code list)
    "fk": ("cp1252", ";", "PERSONNR", "FORMAN", "fk_forman"),
    "soc": ("utf-8-sig", ",", "pnr", None, None),
    "hsf": ("utf-8", "|", "PATIENT_ID", "KONTAKTTYP", "hsf_kontakttyp"),
    "ekonomi": ("cp1252", ";", None, None, None),
    "samtycke": ("utf-8-sig", ";", "Personnummer", None, None),
    "insats": ("utf-8-sig", ";", "Personnummer", "Avslutsanledning", "avslutsanledning"),
}


def _read_any(path: Path, source: str) -> pd.DataFrame:
    if path.suffix == ".xlsx":
        header = 3 if source == "af" else 1
        sheet = {"af": "Uttag", "insats": "Deltagare", "budget": "Budget"}[source]
        return pd.read_excel(path, sheet_name=sheet, header=header - 1, dtype=str,
                             engine="openpyxl")
    encoding, separator, *_ = READ[source]
    return pd.read_csv(path, sep=separator, encoding=encoding, dtype=str, quoting=3 if
                       source == "hsf" else 0)


def _reference_one(args: tuple[str, str]) -> dict:
    """Read, hash identity numbers, check code lists, bulk-load: the least a pipeline must do."""
    from finsam.reference import codes

    landing, url = args
    started, cpu = time.perf_counter(), time.process_time()
    engine = create_engine(url)
    rows = 0
    with engine.begin() as connection:
        for source in ORDER:
            for path in sorted((Path(landing) / source).glob("*")):
                frame = _read_any(path, source)
                rows += len(frame)
                identity = READ.get(source, (None,) * 5)[2] or (
                    "Personnummer" if source == "af" else None)
                if identity and identity in frame:
                    distinct = frame[identity].dropna().unique()
                    hashed = {value: hashlib.sha256(value.encode()).hexdigest() for value in distinct}
                    frame[identity] = frame[identity].map(hashed)
                _, _, _, code_column, code_list = READ.get(source, (None,) * 5)
                if code_column and code_column in frame:
                    frame["code_ok"] = frame[code_column].str.upper().isin(codes(code_list))
                frame.to_sql(f"ref_{source}", connection, if_exists="append", index=False,
                             chunksize=10_000)
    engine.dispose()
    return {"rows": rows, "wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}


# --- the honest anchor ----------------------------------------------------------------------------

#: what the anchor (``benchmarks/anchor.py``) does too: the consent register and the CSV partners
ANCHOR_SOURCES = ("samtycke", "fk", "soc", "hsf")
ANCHOR_STAGES = ("read", "validate", "normalise + pseudonymise", "consent", "newest wins", "load",
                 "_other")


def _anchor_one(args: tuple[str, str, str]) -> dict:
    """The anchor over one landing zone, with finsam's pseudonym key (so the tables can be equal)."""
    from benchmarks import anchor
    from finsam.privacy import read_key_file

    landing, url, workdir = args
    key = read_key_file(Path(workdir) / "keys" / "pseudonym.key", "P")
    result = anchor.run(Path(landing), url, key)
    result["stages"]["_other"] = result["wall"] - sum(result["stages"].values())
    result["stage_cpu"]["_other"] = result["cpu"] - sum(result["stage_cpu"].values())
    return result


def anchor_round(workdir: Path, *, scale: float = 1 / 75, years: int = 10, seed: int = 1,
                 postgres: str | None = None, fresh: bool = True) -> dict:
    """finsam and the anchor over one average förbund (``scale`` of the national volume in one
    förbund), one after the other in fresh processes' worth of state, on every backend; the
    anchor's tables are asserted equal to finsam's before any figure is reported."""
    from benchmarks import anchor

    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "landing"
    manifest = generate_national(root, scale=scale, seed=seed, forbund=1, years=years)
    landing = _forbund(root)[0]
    report = {"scale": scale, "years": years, "files": len(manifest.files),
              "workdir": str(workdir), "backends": {}}
    for backend in ("sqlite", *(("postgresql",) if postgres else ())):
        runs = workdir / backend
        runs.mkdir(parents=True, exist_ok=True)
        finsam_url = _url(backend, runs, "anchor_finsam", postgres)
        anchor_url = _url(backend, runs, "anchor_anchor", postgres)
        work = runs / "work"
        finsam = _finsam_one((str(landing), finsam_url, str(work), False, ANCHOR_SOURCES))
        ours = _anchor_one((str(landing), anchor_url, str(work)))
        equal = anchor.compare(finsam_url, anchor_url)
        report["backends"][backend] = {"finsam": finsam, "anchor": ours, "equal_rows": equal}
    (workdir / "anchor.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return report


def _anchor_markdown(report: dict) -> str:
    lines = []
    for backend, result in report["backends"].items():
        finsam, ours = result["finsam"], result["anchor"]
        title = f"### {backend}: finsam / anchor, one average förbund ({', '.join(ANCHOR_SOURCES)})"
        lines += [title, "",
                  "| stage | finsam wall s | anchor wall s | finsam CPU s | anchor CPU s |",
                  "|---|---:|---:|---:|---:|"]
        for stage in ANCHOR_STAGES:
            cells = (finsam["stages"].get(stage, 0.0), ours["stages"].get(stage, 0.0),
                     finsam["stage_cpu"].get(stage, 0.0), ours["stage_cpu"].get(stage, 0.0))
            lines.append(f"| {stage.replace('_other', 'other')} | "
                         + " | ".join(f"{value:.2f}" for value in cells) + " |")
        total = (finsam["wall"], ours["wall"], finsam["cpu"], ours["cpu"])
        equal = ", ".join(f"{table} {rows:,}" for table, rows in result["equal_rows"].items())
        lines += ["| **total** | " + " | ".join(f"{value:.2f}" for value in total) + " |", "",
                  (f"- finsam / anchor: {total[0] / total[1]:.2f} × wall, "
                   f"{total[2] / total[3]:.2f} × CPU"),
                  f"- tables equal (rows): {equal}", ""]
    return "\n".join(lines)


# --- orchestration of the measurement ----------------------------------------------------------

def _forbund(root: Path) -> list[Path]:
    return sorted(path for path in root.iterdir() if path.is_dir())


def _url(backend: str, folder: Path, name: str, postgres: str | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / (name + '.db')}"
    database = f"bench_{name}".lower()
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return postgres.rsplit("/", 1)[0] + "/" + database


def _size(backend: str, urls: list[str]) -> int:
    if backend == "sqlite":
        return sum(Path(url.removeprefix("sqlite:///")).stat().st_size for url in urls)
    total = 0
    for url in urls:
        engine = create_engine(url)
        with engine.connect() as connection:
            total += connection.execute(text("select pg_database_size(current_database())")).scalar()
        engine.dispose()
    return total


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _map(function, items: list, workers: int) -> list:
    if workers <= 1:
        return [function(item) for item in items]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(function, items))


def measure(root: Path, workdir: Path, backend: str, postgres: str | None, workers: int,
            tag: str, outputs: bool = True) -> dict:
    folders = _forbund(root)
    runs = workdir / backend / tag
    runs.mkdir(parents=True, exist_ok=True)
    urls = [_url(backend, runs, folder.name, postgres) for folder in folders]
    started = time.perf_counter()
    results = _map(_finsam_one, [(str(folder), url, str(runs / folder.name), outputs)
                                 for folder, url in zip(folders, urls)], workers)
    wall = time.perf_counter() - started
    stages = {stage: sum(result["stages"].get(stage, 0.0) for result in results)
              for stage in (*STAGE_ORDER, "_other")}
    return {"wall": wall, "cpu": sum(result["cpu"] for result in results),
            "stage_wall_total": sum(stages.values()),
            "rows": sum(result["rows"] for result in results), "stages": stages,
            "urls": urls, "size_bytes": _size(backend, urls), "peak_rss_mb": _peak_rss_mb()}


def measure_reference(root: Path, workdir: Path, backend: str, postgres: str | None,
                      workers: int) -> dict:
    folders = _forbund(root)
    runs = workdir / backend / "reference"
    runs.mkdir(parents=True, exist_ok=True)
    urls = [_url(backend, runs, f"ref_{folder.name}", postgres) for folder in folders]
    started = time.perf_counter()
    results = _map(_reference_one, [(str(folder), url) for folder, url in zip(folders, urls)],
                   workers)
    return {"wall": time.perf_counter() - started, "rows": sum(r["rows"] for r in results),
            "cpu": sum(r["cpu"] for r in results)}


def one_more_day(root: Path, scale: float, seed: int):
    """One more day's deliveries for a tenth of the förbund: (day, manifest)."""
    latest = max(date.fromisoformat(f"{p.name[:4]}-{p.name[4:6]}-{p.name[6:8]}")
                 for p in root.rglob("*") if p.is_file() and p.name[:8].isdigit())
    day = latest + timedelta(days=1)
    return day, next_day(root, scale=scale, seed=seed, day=day)


def nightly(root: Path, places: dict[str, tuple[str, str]], day: date, manifest) -> dict:
    """The day's deliveries processed into the warehouses the full run built.

    ``places``: förbund -> (warehouse URL, working folder of the full run, which holds its keys)."""
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for name in manifest.forbund:
        url, work = places[name]
        rows += _finsam_one((str(root / name), url, work, day))["rows"]
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu, "rows": rows,
            "forbund": len(manifest.forbund), "day": day.isoformat()}


def nightly_growth(workdir: Path, fractions: tuple[float, ...] = (0.01, 0.1, 1.0), *,
                   seed: int = 1) -> list[dict]:
    """The nightly run of one average förbund as its warehouse grows: ten years at ``fraction`` of
    the national volume per förbund, loaded in full, then one more day."""
    rows = []
    for fraction in fractions:
        folder = workdir / f"growth_{fraction}"
        if folder.exists():
            shutil.rmtree(folder)
        scale = fraction / 75
        root = folder / "landing"
        generate_national(root, scale=scale, seed=seed, forbund=1, years=10)
        url = f"sqlite:///{folder / 'warehouse.db'}"
        full = _finsam_one((str(root / "sf01"), url, str(folder / "work"), False))
        night = nightly(root, {"sf01": (url, str(folder / "work"))},
                        *one_more_day(root, scale, seed))
        rows.append({"fraction": fraction, "full_rows": full["rows"], "full_wall": full["wall"],
                     "warehouse_mb": Path(url.removeprefix("sqlite:///")).stat().st_size / 1e6,
                     "night_rows": night["rows"], "night_wall": night["wall"]})
    return rows


def nightly_split(workdir: Path, warehouses: tuple[float, ...] = (0.01, 1.0),
                  days: tuple[float, ...] = (1.0, 100.0), *, seed: int = 1) -> list[dict]:
    """The nightly of one average förbund with the warehouse's size and the day's rows varied
    separately: each warehouse (ten years at a fraction of the national volume per förbund) is
    loaded once and copied, and each copy gets a day of a different size (``next_day``'s scale).
    The day's consent register and insats snapshots are whole registers, so part of a day's rows
    follows the warehouse whatever the day's scale."""
    rows = []
    for fraction in warehouses:
        base = workdir / f"split_w{fraction}"
        if base.exists():
            shutil.rmtree(base)
        generate_national(base / "landing", scale=fraction / 75, seed=seed, forbund=1, years=10)
        url = f"sqlite:///{base / 'warehouse.db'}"
        full = _finsam_one((str(base / "landing" / "sf01"), url, str(base / "work"), False))
        size = Path(url.removeprefix("sqlite:///")).stat().st_size / 1e6
        for day_fraction in days:
            copy = workdir / f"split_w{fraction}_d{day_fraction}"
            if copy.exists():
                shutil.rmtree(copy)
            shutil.copytree(base, copy)
            root = copy / "landing"
            copied = f"sqlite:///{copy / 'warehouse.db'}"
            night = nightly(root, {"sf01": (copied, str(copy / "work"))},
                            *one_more_day(root, day_fraction / 75, seed))
            rows.append({"warehouse_fraction": fraction, "day_fraction": day_fraction,
                         "full_rows": full["rows"], "warehouse_mb": size,
                         "night_rows": night["rows"], "night_wall": night["wall"],
                         "night_cpu": night["cpu"]})
            shutil.rmtree(copy)
    return rows


def _markdown(report: dict) -> str:
    lines = [f"Scale {report['scale']} ({report['generated']['spells']:,} spells, "
             f"{report['generated']['partner_rows']:,} partner rows, {report['generated']['files']:,}"
             f" files; generated in {report['generated']['seconds']:.0f} s)", ""]
    for backend, result in report["backends"].items():
        full, reference, night = result["full"], result["reference"], result["nightly"]
        lines += [f"### {backend}", "",
                  "| stage | wall s | share of wall |", "|---|---:|---:|"]
        for stage in (*STAGE_ORDER, "_other"):
            seconds = full["stages"].get(stage, 0.0)
            lines.append(f"| {stage.replace('_other', 'other (parsing, manifest, quarantine...)')} "
                         f"| {seconds:.1f} | {seconds / max(full['stage_wall_total'], 1e-9):.0%} |")
        lines += ["", f"- end to end: {full['wall']:.1f} s wall, {full['cpu']:.1f} s CPU, "
                  f"{full['rows'] / full['wall']:,.0f} rows/s, peak RSS {full['peak_rss_mb']:.0f} MB, "
                  f"warehouse {full['size_bytes'] / 1e6:.0f} MB",
                  f"- bare-minimum reference: {reference['wall']:.1f} s wall; finsam / reference = "
                  f"{full['wall'] / reference['wall']:.2f}",
                  f"- nightly run ({night['forbund']} förbund, {night['rows']:,} rows read, "
                  f"{night['day']}): {night['wall']:.1f} s wall", ""]
    return "\n".join(lines)


def run(scale: float, workdir: Path, *, forbund: int = 75, years: int = 10, seed: int = 1,
        postgres: str | None = None, workers: int = 1, fresh: bool = True) -> dict:
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "landing"
    manifest = generate_national(root, scale=scale, seed=seed, forbund=forbund, years=years,
                                 workers=workers)
    report = {"scale": scale, "forbund": forbund, "years": years,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "generated": {"files": len(manifest.files), "spells": manifest.spells,
                            "partner_rows": manifest.partner_rows, "seconds": manifest.seconds},
              "backends": {}}
    for backend in ("sqlite", *(("postgresql",) if postgres else ())):
        full = measure(root, workdir, backend, postgres, workers, "full")
        reference = measure_reference(root, workdir, backend, postgres, workers)
        report["backends"][backend] = {"full": full, "reference": reference}
    names = [folder.name for folder in _forbund(root)]
    # the same day for every backend: each warehouse sees exactly one more day
    day, manifest = one_more_day(root, scale, seed)
    for backend, result in report["backends"].items():
        places = {name: (url, str(workdir / backend / "full" / name))
                  for name, url in zip(names, result["full"]["urls"])}
        result["nightly"] = nightly(root, places, day, manifest)
    for result in report["backends"].values():
        result["full"].pop("urls")
    (workdir / "results.json").write_text(json.dumps(report, indent=2, default=str),
                                          encoding="utf-8")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=None,
                        help="share of the national volume (default 0.01; with --anchor 1/75)")
    parser.add_argument("--workdir", type=Path, default=Path("bench-work"))
    parser.add_argument("--forbund", type=int, default=75)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--postgres", default=os.environ.get("FINSAM_BENCH_POSTGRES_URL"),
                        help="server URL for the PostgreSQL measurement (optional)")
    parser.add_argument("--anchor", action="store_true",
                        help="only finsam against the polars anchor, one average förbund "
                             "(--scale is then that förbund's share of the national volume)")
    parser.add_argument("--split", action="store_true",
                        help="only the nightly of one average förbund, the warehouse's size and "
                             "the day's rows varied separately")
    parser.add_argument("--growth", action="store_true",
                        help="only the nightly run of one average förbund at 1 %%, 10 %%, 100 %%")
    args = parser.parse_args()
    if args.anchor:
        print(_anchor_markdown(anchor_round(args.workdir, scale=args.scale or 1 / 75, years=args.years,
                                            seed=args.seed, postgres=args.postgres)))
        return
    if args.split:
        print("| warehouse (share of an average förbund) | warehouse | day's scale | rows read "
              "that night | nightly wall | nightly CPU |")
        print("|---:|---:|---:|---:|---:|---:|")
        for row in nightly_split(args.workdir, seed=args.seed):
            print(f"| {row['warehouse_fraction']:.0%} | {row['warehouse_mb']:.0f} MB "
                  f"| {row['day_fraction']:.0%} | {row['night_rows']:,} | {row['night_wall']:.1f} s "
                  f"| {row['night_cpu']:.1f} s |")
        return
    if args.growth:
        for row in nightly_growth(args.workdir, seed=args.seed):
            print(f"| {row['fraction']:.0%} | {row['full_rows']:,} | {row['warehouse_mb']:.0f} MB "
                  f"| {row['night_rows']:,} | {row['night_wall']:.1f} s |")
        return
    report = run(args.scale or 0.01, args.workdir, forbund=args.forbund, years=args.years, seed=args.seed,
                 postgres=args.postgres, workers=args.workers)
    print(_markdown(report))


if __name__ == "__main__":
    main()
