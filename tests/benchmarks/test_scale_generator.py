"""The scale generator: deterministic, honest about its counts, and readable by the project's readers."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from benchmarks.scale_generator import (
    PARTNER_SOURCES,
    SOURCES,
    generate_national,
    next_day,
)
from finsam import identity
from finsam.consent import consented
from finsam.errors import DeliveryRejected
from finsam.reference import test_personnummer as skatteverket_test_numbers
from sources.landing import scan_source
from sources.registry import REGISTRY

SMALL = {"scale": 0.002, "forbund": 3, "years": 2, "first_year": 2015}
IDENTITY_SOURCES = ("insats", "samtycke", "fk", "af", "soc", "hsf")


def _digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _read_all(root: Path, *, day: date | None = None) -> list[tuple]:
    """(förbund, delivery, raw, conformed) for every delivery under ``root`` (or only those
    extracted on ``day``); no file may be rejected or unrecognised."""
    read = []
    for landing in sorted(path for path in root.iterdir() if path.is_dir()):
        for spec in REGISTRY.specs():
            _scan = scan_source(landing, spec)
            deliveries, unrecognised = [d.read() for d in _scan.deliveries], _scan.unrecognised
            assert not unrecognised, unrecognised
            for delivery in deliveries:
                if day is not None and delivery.extraction_date != day:
                    continue
                module = REGISTRY[spec.name]
                try:
                    raw = module.read(delivery)
                    conformed = module.conform(raw, delivery)
                except DeliveryRejected as exc:   # pragma: no cover - the assertion's message
                    pytest.fail(f"{delivery.path} rejected: {exc}")
                read.append((landing.name, delivery, raw, conformed))
    return read


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    manifest = generate_national(root, seed=7, **SMALL)
    return root, manifest, _read_all(root)


def test_same_seed_same_bytes(national, tmp_path):
    root, manifest, _ = national
    again = generate_national(tmp_path / "again", seed=7, workers=2, **SMALL)
    assert _digests(tmp_path / "again") == _digests(root)
    assert again.rows == manifest.rows
    other = generate_national(tmp_path / "other", seed=8, **SMALL)
    assert _digests(tmp_path / "other") != _digests(root)
    assert other.spells != manifest.spells or other.rows != manifest.rows


def test_manifest_counts_match_the_files(national):
    root, manifest, read = national
    on_disk = sorted(path for path in root.rglob("*") if path.is_file())
    assert manifest.files == on_disk
    assert manifest.bytes == sum(path.stat().st_size for path in on_disk)
    assert manifest.forbund == ("sf01", "sf02", "sf03")
    rows = Counter()
    for _, delivery, _, conformed in read:
        rows[delivery.source] += conformed.rows_read
    assert manifest.rows == {source: rows[source] for source in SOURCES}
    assert manifest.partner_rows == sum(rows[source] for source in PARTNER_SOURCES)
    # Every spell is in the newest snapshot of its insats.
    newest: dict[tuple[str, str], tuple] = {}
    for forbund, delivery, _, conformed in read:
        if delivery.source == "insats":
            newest[(forbund, delivery.scope)] = (delivery, conformed)
    assert manifest.spells == sum(conformed.rows_read for _, conformed in newest.values())
    persons = 0
    for forbund in manifest.forbund:
        frames = [frame for (f, _), (_, c) in newest.items() if f == forbund
                  for frame in (c.frame, c.extra["held_warnings"])]
        persons += pd.concat(frames)["pnr"].dropna().nunique()
    # Protected identities are anonymous to the reader, and a few rows are spoiled on purpose.
    assert 0.9 * manifest.persons <= persons <= manifest.persons
    newest_consents = {}
    for forbund, delivery, _, conformed in read:
        if delivery.source == "samtycke":
            newest_consents[forbund] = conformed.rows_read
    assert manifest.consents == sum(newest_consents.values())


def test_volumes_follow_the_scale(national, tmp_path):
    _, manifest, _ = national
    target = SMALL["scale"] * 100_000 * SMALL["years"]
    assert 0.85 * target <= manifest.spells <= 1.15 * target
    assert 6 <= manifest.partner_rows / manifest.spells <= 13
    double = generate_national(tmp_path / "double", seed=7, **{**SMALL, "scale": 2 * SMALL["scale"]})
    assert 1.7 <= double.spells / manifest.spells <= 2.3
    assert 1.7 <= double.partner_rows / manifest.partner_rows <= 2.3
    # Ledgers and budgets are per förbund and year, whatever the scale.
    assert double.rows["ekonomi"] == manifest.rows["ekonomi"]


def test_every_file_reads_with_few_issues(national):
    _, manifest, read = national
    assert {delivery.source for _, delivery, _, _ in read} == set(SOURCES)
    for _, delivery, _, conformed in read:
        assert conformed.rows_read > 0, delivery.path
        assert len(conformed.issues) <= 0.03 * conformed.rows_read, (
            delivery.path, conformed.issues[["column", "rule"]].value_counts().to_dict())
    issues = pd.concat([conformed.issues for *_, conformed in read], ignore_index=True)
    # Only the deliberate kinds: no overlapping spells, ages, dates or budget sums.
    assert set(issues["rule"]) <= {"ogiltigt personnummer", "ogiltigt identitetsnummer", "okänd kod"}
    assert len(issues) == manifest.mistakes
    assert manifest.mistakes <= 0.02 * manifest.total_rows


def test_only_skatteverkets_test_numbers(national):
    _, _, read = national
    allowed = set(skatteverket_test_numbers())
    invalid = total = 0
    for _, delivery, raw, _ in read:
        if delivery.source not in IDENTITY_SOURCES:
            continue
        given = raw["personnummer"].dropna()
        ids = identity.normalise(given, delivery.extraction_date,
                                 allow_reservnummer=delivery.source == "hsf")
        valid = ids["pnr"].dropna()
        assert set(valid) <= allowed, delivery.path
        invalid += int((ids["id_kind"] == identity.INVALID).sum())
        total += len(given)
    assert invalid <= 0.02 * total


def test_partner_rows_fall_inside_consents(national):
    _, _, read = national
    newest_consents = {}
    for forbund, delivery, _, conformed in read:
        if delivery.source == "samtycke":
            newest_consents[forbund] = conformed.frame
    inside = total = 0
    for forbund, delivery, _, conformed in read:
        if delivery.source not in PARTNER_SOURCES:
            continue
        frame = conformed.frame.dropna(subset=["pnr"]).reset_index(drop=True)
        consents = newest_consents[forbund].assign(pseudonym=lambda f: f["pnr"])
        allowed = consented(frame.assign(pseudonym=frame["pnr"]), REGISTRY.spec(delivery.source).consent, consents)
        inside += int(allowed.sum())
        total += len(frame)
    assert total and inside / total >= 0.99


def test_partner_quirks(national):
    root, _, _ = national
    landing = root / "sf01"
    fk = next((landing / "fk").iterdir()).read_bytes()
    assert b"\r\n" in fk and fk.decode("cp1252").startswith("PERSONNR;NAMN;FORMAN")
    ekonomi = next((landing / "ekonomi").iterdir()).read_bytes()
    assert b"\r\n" in ekonomi and ekonomi.decode("cp1252").startswith("Ver.nr;Rad;")
    soc = max((landing / "soc").iterdir()).read_bytes()
    assert soc.startswith(b"\xef\xbb\xbf\"pnr\",\"manad\",\"belopp\"")
    assert any(part.count(" ") == 1 and "," in part
               for part in soc.decode("utf-8-sig").split('"')[1::2] if part[:1].isdigit())
    assert next((landing / "hsf").iterdir()).read_text("utf-8").startswith("PATIENT_ID|KONTAKTDATUM|")
    workbook = openpyxl.load_workbook(next((landing / "af").iterdir()), read_only=True)
    rows = list(workbook["Uttag"].iter_rows(max_row=3, values_only=True))
    workbook.close()
    assert rows[0][0].startswith("Uttag") and rows[1][0].startswith("Uttagsdatum")
    assert rows[2][:2] == ("Personnummer", "Inskriven från")
    budget = next((landing / "budget").iterdir())
    workbook = openpyxl.load_workbook(budget, read_only=True)
    assert workbook.sheetnames == ["Insatser", "Budget", "Finansiering"]
    assert any(row[1] == "TOTALT" for row in workbook["Budget"].iter_rows(values_only=True))
    workbook.close()
    # Workbooks carry fixed timestamps: the bytes depend on the content only.
    with zipfile.ZipFile(budget) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2024, 1, 1, 0, 0, 0)}
    # Registers: xlsx for a few förbund (sf02, sf12, ...), csv for the rest.
    assert {path.suffix for path in (root / "sf02" / "insats").iterdir()} == {".xlsx"}
    assert {path.suffix for path in (landing / "insats").iterdir()} == {".csv"}


def test_next_day_adds_newer_deliveries(tmp_path):
    root = tmp_path / "zone"
    generate_national(root, seed=3, **SMALL)
    before = _digests(root)
    day = date(2017, 1, 9)
    manifest = next_day(root, scale=SMALL["scale"], seed=3, day=day)
    after = _digests(root)
    assert {name: digest for name, digest in after.items() if name in before} == before
    new = sorted(set(after) - set(before))
    assert new == sorted(str(path.relative_to(root)) for path in manifest.files)
    assert {name.split("/")[-1][:8] for name in new} == {f"{day:%Y%m%d}"}
    touched = {name.split("/")[0] for name in new}
    assert len(touched) == 1 and manifest.forbund == tuple(sorted(touched))
    folders = {name.split("/")[1] for name in new}
    assert {"insats", "samtycke", "fk", "af", "soc", "hsf", "ekonomi"} <= folders
    assert manifest.spells >= 1 and manifest.partner_rows >= 4
    read = _read_all(root, day=day)
    assert sorted(str(d.path.relative_to(root)) for _, d, _, _ in read) == new
    rows = Counter()
    for _, delivery, _, conformed in read:
        rows[delivery.source] += conformed.rows_read
        # Re-delivered registers keep the few spoiled rows they had; the rest is clean.
        assert len(conformed.issues) <= 0.03 * conformed.rows_read
    assert manifest.rows == {source: rows[source] for source in SOURCES}
    for spec in REGISTRY.specs():
        deliveries = [d.read() for d in scan_source(root / manifest.forbund[0], spec).deliveries]
        if any(d.extraction_date == day for d in deliveries):
            assert deliveries[-1].extraction_date == day
    # The newest snapshots still hold every spell delivered before, and the new ones.
    landing = root / manifest.forbund[0]
    for path in (landing / "insats").glob(f"{day:%Y%m%d}_*"):
        scope = path.name.split("_", 1)[1].split(".")[0]
        older = sorted((landing / "insats").glob(f"*_{scope}.*"))[-2]
        deliveries = {d.path: d for d in [d.read() for d in scan_source(landing, REGISTRY.spec("insats")).deliveries]}
        old = REGISTRY["insats"].read(deliveries[older])
        new_rows = REGISTRY["insats"].read(deliveries[path])
        key = ["personnummer", "inskrivningsdatum"]
        assert set(map(tuple, old[key].fillna("").to_numpy())) <= set(map(tuple, new_rows[key].fillna("").to_numpy()))
    # A day must come after everything already delivered.
    with pytest.raises(ValueError):
        next_day(root, scale=SMALL["scale"], seed=3, day=day)


@pytest.mark.skipif(not os.environ.get("FINSAM_BENCHMARK_SLOW"),
                    reason="set FINSAM_BENCHMARK_SLOW=1 to time scale 0.01 (75 förbund, ten years)")
def test_scale_one_percent_is_quick(tmp_path):
    started = time.perf_counter()
    manifest = generate_national(tmp_path / "national", scale=0.01)
    assert time.perf_counter() - started < 60
    assert 9_000 <= manifest.spells <= 11_000
    assert 80_000 <= manifest.partner_rows <= 120_000
