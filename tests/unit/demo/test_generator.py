"""The demo generator: deterministic, readable by the project's readers, and honest about its mistakes."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from assets.ingest.transforms import with_age_at_enrolment, with_record_key
from assets.ingest.withdrawal import erasure_days
from assets.steward.conflicts import find_conflicts, partner_evidence
from demodata.generator import INJECTED_FILE_NAME, READER_VISIBLE_KINDS, generate
from finsam.consent import consented
from finsam.errors import DeliveryRejected
from finsam.reference import test_personnummer as skatteverket_test_numbers
from sources.landing import scan_source
from sources.registry import REGISTRY
from warehouse.load import newest_per_key

ALL_KINDS = (*READER_VISIBLE_KINDS, "unknown_projekt", "reservnummer", "no_consent", "wrong_encoding",
             "missing_column", "duplicate_delivery", "unrecognised_file", "extra_columns",
             "vanished_record", "overlapping_delta", "conflict_income", "conflict_partners")
CONFLICT_KINDS = {"försörjning vid inskrivning saknar partnerns uppgift": "conflict_income",
                  "uppgifter från färre än två parter": "conflict_partners"}
_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6}|\d{8})[-+]?(\d{4})(?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    started = time.perf_counter()
    zone = generate(tmp_path_factory.mktemp("demo") / "landing")
    zone.seconds = time.perf_counter() - started
    return zone


def _digests(landing: Path) -> dict[str, str]:
    return {str(path.relative_to(landing)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(landing.rglob("*")) if path.is_file()}


def _kinds(zone, *kinds: str) -> pd.DataFrame:
    return zone.injected.loc[zone.injected["kind"].isin(kinds)]


def _text_cells(path: Path) -> list[str]:
    if path.suffix == ".xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        cells = [str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True)
                 for cell in row if cell is not None]
        workbook.close()
        return cells
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return re.split(r"[;,|\r\n\"]+", text)


def test_same_seed_gives_identical_bytes(tmp_path):
    first = generate(tmp_path / "a" / "landing", participants=80)
    time.sleep(1.1)   # a clock-stamped file would differ after a second
    second = generate(tmp_path / "b" / "landing", participants=80)
    assert _digests(first.landing) == _digests(second.landing)
    injected = [(tmp_path / run / INJECTED_FILE_NAME).read_bytes() for run in ("a", "b")]
    assert injected[0] == injected[1]


def test_another_seed_gives_other_files(tmp_path):
    first = generate(tmp_path / "a" / "landing", participants=80)
    second = generate(tmp_path / "b" / "landing", participants=80, seed=1)
    assert _digests(first.landing) != _digests(second.landing)


def test_defaults_are_fast_and_moderate(generated):
    assert generated.seconds < 10
    assert 60 <= len(generated.files) <= 150
    assert all(path.is_file() for path in generated.files)


def test_every_folder_is_populated(generated):
    for spec in REGISTRY.specs():
        deliveries = [d.read() for d in scan_source(generated.landing, spec).deliveries]
        assert deliveries, spec.folder


def test_every_kind_is_injected_a_handful_of_times(generated):
    counts = generated.injected["kind"].value_counts()
    for kind in ALL_KINDS:
        assert counts.get(kind, 0) >= 1, kind
    assert set(counts.index) <= set(ALL_KINDS)
    assert counts.max() <= 6


def test_injected_is_written_next_to_the_landing_zone(generated):
    written = pd.read_csv(generated.landing.parent / INJECTED_FILE_NAME, dtype=str)
    assert list(written.columns) == ["source", "file", "row_number", "column", "kind"]
    assert len(written) == len(generated.injected)


def test_whole_file_mistakes_have_no_row_or_column(generated):
    whole = _kinds(generated, "wrong_encoding", "missing_column", "duplicate_delivery",
                   "unrecognised_file", "extra_columns", "overlapping_delta")
    assert whole["row_number"].isna().all() and whole["column"].isna().all()
    rows = generated.injected.drop(whole.index)
    assert rows["row_number"].notna().all()


def test_injected_holds_no_identity_number(generated):
    text = generated.injected.astype(str).to_csv(index=False)
    assert not _NUMBER.search(text)


def test_every_identity_number_is_a_test_number_or_a_recorded_mistake(generated):
    valid = set(skatteverket_test_numbers())
    foreign = []
    for path in generated.files:
        for cell in _text_cells(path):
            for match in _NUMBER.finditer(cell):
                digits = match.group(1) + match.group(2)
                if len(digits) == 12 and digits.startswith("99"):
                    continue   # a regional reservnummer
                if digits in valid or any(century + digits in valid for century in ("19", "20")):
                    continue
                foreign.append(path.name)
    # Each broken check digit is one foreign number; the unrecognised copies repeat none of them.
    assert len(foreign) == len(_kinds(generated, "bad_check_digit"))
    assert set(foreign) == set(_kinds(generated, "bad_check_digit")["file"])


def test_names_and_diagnoses_are_in_the_files(generated):
    insats = pd.read_csv(next(p for p in generated.files if p.parent.name == "insats"
                              and p.suffix == ".csv"), sep=";", encoding="utf-8-sig", dtype=str)
    assert insats["Namn"].notna().any()
    hsf = pd.read_csv(next(p for p in generated.files if p.parent.name == "hsf"), sep="|", dtype=str)
    assert hsf["DIAGNOSKOD"].str.fullmatch(r"[A-Z]\d{2}\.\d").all()
    fk = pd.read_csv(next(p for p in generated.files if p.parent.name == "fk"), sep=";",
                     encoding="cp1252", dtype=str)
    assert fk["NAMN"].str.contains(" ").all()


def test_unrecognised_files_are_the_recorded_ones(generated):
    found = {(spec.name, item.file_name) for spec in REGISTRY.specs()
             for item in scan_source(generated.landing, spec).unrecognised}
    recorded = set(_kinds(generated, "unrecognised_file")[["source", "file"]].itertuples(index=False,
                                                                                      name=None))
    assert found == recorded


def test_readers_report_exactly_the_injected_row_mistakes(generated):
    rejected_kinds = _kinds(generated, "wrong_encoding", "missing_column")
    rejected = set(rejected_kinds["file"])
    reported: set[tuple[str, int, str]] = set()
    for spec in REGISTRY.specs():
        deliveries = [d.read() for d in scan_source(generated.landing, spec).deliveries]
        module = REGISTRY[spec.name]
        for delivery in deliveries:
            if delivery.file_name in rejected:
                with pytest.raises(DeliveryRejected):
                    module.read(delivery)
                continue
            issues = module.conform(module.read(delivery), delivery).issues
            reported |= {(row.file, int(row.row_number), row.column.casefold())
                         for row in issues.itertuples(index=False)}
    visible = _kinds(generated, *READER_VISIBLE_KINDS)
    expected = {(row.file, int(row.row_number), row.column.casefold())
                for row in visible.itertuples(index=False)}
    assert reported == expected


def test_rejected_files_are_of_the_promised_kind(generated):
    for row in _kinds(generated, "wrong_encoding", "missing_column").itertuples(index=False):
        path = generated.landing / row.source / row.file
        if row.kind == "wrong_encoding":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
        else:
            header = path.read_bytes().decode("cp1252").splitlines()[0].split(";")
            assert "FOM" not in header and "PERSONNR" in header


def test_duplicates_repeat_the_bytes_of_another_delivery(generated):
    for row in _kinds(generated, "duplicate_delivery").itertuples(index=False):
        copy = (generated.landing / row.source / row.file).read_bytes()
        others = [p for p in (generated.landing / row.source).iterdir() if p.name != row.file]
        assert any(p.read_bytes() == copy for p in others)
        assert REGISTRY.spec(row.source).match(row.file)


def test_vanished_records_are_missing_from_the_next_snapshot(generated):
    for row in _kinds(generated, "vanished_record").itertuples(index=False):
        folder = generated.landing / row.source
        snapshots = sorted(p for p in folder.iterdir() if p.name.endswith(row.file[8:]))
        older = snapshots.index(folder / row.file)
        before = _insats_rows(snapshots[older])
        after = _insats_rows(snapshots[older + 1])
        gone = before.iloc[int(row.row_number) - 2]
        key = (gone["Personnummer"], gone["Inskrivningsdatum"])
        assert key not in set(zip(after["Personnummer"], after["Inskrivningsdatum"]))


def _insats_rows(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str)
    return pd.read_excel(path, sheet_name="Deltagare", dtype=str, engine="calamine")


def test_partner_records_fall_in_a_consent_unless_recorded(generated):
    """Every linkable partner row is covered by a consent in force, except the no_consent rows."""
    consents = _latest_consents(generated.landing).rename(columns={"pnr": "pseudonym"})
    unconsented = set()
    for source in ("fk", "af", "soc", "hsf"):
        module = REGISTRY[source]
        for delivery in [d.read() for d in scan_source(generated.landing, REGISTRY.spec(source)).deliveries]:
            try:
                frame = module.conform(module.read(delivery), delivery).frame
            except DeliveryRejected:
                continue
            frame = frame.dropna(subset=["pnr"]).rename(columns={"pnr": "pseudonym"})
            allowed = consented(frame, REGISTRY.spec(source).consent, consents)
            unconsented |= {(delivery.file_name, int(row)) for row in frame.loc[~allowed, "row_number"]}
    recorded = set(_kinds(generated, "no_consent")[["file", "row_number"]].astype(object)
                   .itertuples(index=False, name=None))
    assert unconsented == recorded


def _latest_consents(landing: Path) -> pd.DataFrame:
    deliveries = [d.read() for d in scan_source(landing, REGISTRY.spec("samtycke")).deliveries]
    module = REGISTRY["samtycke"]
    return module.conform(module.read(deliveries[-1]), deliveries[-1]).frame


def test_budget_totals_match_their_rows_and_quarters_add_up(generated):
    module = REGISTRY["budget"]
    for delivery in [d.read() for d in scan_source(generated.landing, REGISTRY.spec("budget")).deliveries]:
        conformed = module.conform(module.read(delivery), delivery)
        assert set(conformed.issues["rule"].str.split(": ").str[1]) <= {
            "kvartalen summerar inte till Ackumulering", "belopp inom parentes"}
        assert not conformed.extra["arsbudget"].empty
        assert conformed.extra["finansiering"]["finansiar"].str.contains("Eget kapital").any()


def test_reconciliation_conflicts_are_exactly_the_injected_ones(generated):
    """The steward's two rules, run on what the pipeline would store, fire only where injected."""
    consents = _latest_consents(generated.landing).rename(columns={"pnr": "pseudonym"})
    erased = erasure_days(consents)
    spells = _linked_spells(generated.landing, erased)
    stored = {source: _stored_partner_rows(generated.landing, source, consents, erased)
              for source in ("fk", "af", "soc", "hsf")}
    evidence, partners = _evidence(stored)
    conflicts = find_conflicts(spells, evidence, partners)
    found = [(row.file_name, int(row.row_number), CONFLICT_KINDS[row.rule])
             for row in conflicts.itertuples(index=False)]
    injected = _kinds(generated, *CONFLICT_KINDS.values())
    expected = [(row.file, int(row.row_number), row.kind) for row in injected.itertuples(index=False)]
    assert sorted(found) == sorted(expected)
    assert 2 <= (injected["kind"] == "conflict_income").sum() <= 4
    assert 2 <= (injected["kind"] == "conflict_partners").sum() <= 4
    assert injected.loc[injected["kind"] == "conflict_income", "column"].eq(
        "Försörjning vid inskrivning").all()
    assert injected.loc[injected["kind"] == "conflict_partners", "column"].isna().all()
    assert spells["pseudonym"].notna().sum() > 200   # the rules had many spells to judge


def _conformed(landing: Path, source: str):
    module = REGISTRY[source]
    for delivery in [d.read() for d in scan_source(landing, REGISTRY.spec(source)).deliveries]:
        try:
            yield delivery, module.conform(module.read(delivery), delivery).frame
        except DeliveryRejected:
            continue


def _erased(frame: pd.DataFrame, dates: pd.Series, erased: pd.Series) -> pd.Series:
    """Rows about a person erased on or after the row's date (the pnr stands for the person)."""
    day = frame["pseudonym"].map(erased)
    return (day.notna() & (pd.to_datetime(dates) <= day)).fillna(False).astype(bool)


def _linked_spells(landing: Path, erased: pd.Series) -> pd.DataFrame:
    """The newest snapshot of each insats, as stored: the pnr stands in for the pseudonym, and
    anonymous, protected and erased people (up to their erasure) have none."""
    newest: dict[str, tuple] = {}
    for delivery, frame in _conformed(landing, "insats"):
        held = newest.get(delivery.scope)
        if held is None or delivery.extraction_date > held[0].extraction_date:
            newest[delivery.scope] = (delivery, frame)
    spells = pd.concat([frame.assign(file_name=delivery.file_name)
                        for delivery, frame in newest.values()], ignore_index=True)
    spells = spells.rename(columns={"pnr": "pseudonym"})
    spells["pseudonym"] = spells["pseudonym"].mask(
        _erased(spells, spells["inskrivningsdatum"], erased))
    spells = with_age_at_enrolment(spells)
    return spells.assign(record_key=spells["file_name"] + "|" + spells["row_number"].astype(str))


def _stored_partner_rows(landing: Path, source: str, consents: pd.DataFrame,
                         erased: pd.Series) -> pd.DataFrame:
    """Rows with consent in force, of people not erased up to the row's time; per record the
    newest delivery's row."""
    spec = REGISTRY.spec(source)
    frames = []
    for delivery, frame in _conformed(landing, source):
        frame = frame.dropna(subset=["pnr"]).rename(columns={"pnr": "pseudonym"})
        known = pd.Series(pd.Timestamp(delivery.extraction_date), index=frame.index)
        allowed = consented(frame, spec.consent, consents, known_on=known)
        frame = frame.loc[allowed & ~_erased(frame, spec.record_dates(frame), erased)]
        frames.append(with_record_key(frame, spec).assign(
            version=delivery.extraction_date.isoformat() + "|" + delivery.file_name + "|"
            + frame["row_number"].astype(str).str.zfill(10)))
    return newest_per_key(pd.concat(frames, ignore_index=True))


def _evidence(stored: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series]:
    """As the steward's review builds it from the warehouse tables."""
    return partner_evidence(*(stored[source] for source in ("fk", "af", "soc", "hsf")))
