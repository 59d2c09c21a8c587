from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from finsam.errors import DeliveryRejected, EncodingRejected, MissingColumn
from sources.base import HELD_WARNINGS, Conformed, conform_many
from sources.insats import reader as insats
from validation.issues import ERROR, WARNING

HEADERS = ["Insats", "Personnummer", "Namn", "Anonym", "Kön", "Skyddad identitet",
           "Aktualiserande part", "Inskrivningsdatum", "Utskrivningsdatum", "Avslutsanledning",
           "Försörjning vid inskrivning", "Försörjning vid utskrivning",
           "Tid i offentlig försörjning", "Utbildningsnivå", "Kommun"]
OUTPUT = ["row_number", "insats", "pnr", "id_kind", "birth_date", "kon", "anonym",
          "skyddad_identitet", "aktualiserande_part", "inskrivningsdatum", "utskrivningsdatum",
          "avslutsanledning", "forsorjning_in", "forsorjning_ut", "tid_offentlig_forsorjning",
          "utbildningsniva", "kommun", "utskrivningskvartal"]
ANNA = "198001022386"


def base_row(**changes: str) -> dict[str, str]:
    """A valid discharged spell for Anna; ``changes`` use the contract's headers."""
    row = {"Insats": "DEMO1", "Personnummer": ANNA, "Namn": "Anna Exempel", "Anonym": "Nej",
           "Kön": "K", "Skyddad identitet": "Nej", "Aktualiserande part": "FK",
           "Inskrivningsdatum": "2024-01-15", "Utskrivningsdatum": "2024-11-29",
           "Avslutsanledning": "ARB", "Försörjning vid inskrivning": "SJP",
           "Försörjning vid utskrivning": "LON", "Tid i offentlig försörjning": "2",
           "Utbildningsnivå": "GY", "Kommun": "0980"}
    row.update(changes)
    return row


ENROLLED = {"Utskrivningsdatum": "", "Avslutsanledning": "", "Försörjning vid utskrivning": ""}
ANONYMOUS = {"Personnummer": "", "Anonym": "Ja", "Aktualiserande part": "",
             "Försörjning vid inskrivning": "", "Tid i offentlig försörjning": "",
             "Utbildningsnivå": "", "Kommun": "", **ENROLLED}


@pytest.fixture
def conform_rows(write_text, make_delivery):
    """Write rows (dicts by contract header) to a DEMO1 csv, read and conform it."""
    def run(*rows: dict[str, str]) -> Conformed:
        lines = [";".join(HEADERS)] + [";".join(row.get(h, "") for h in HEADERS) for row in rows]
        delivery = make_delivery("insats", write_text("20241130_DEMO1.csv", lines), scope="DEMO1")
        return insats.conform(insats.read(delivery), delivery)
    return run


@pytest.fixture(params=["20241130_DEMO1.csv", "20241130_DEMO1.xlsx"])
def sample(request, samples, make_delivery):
    delivery = make_delivery("insats", samples / "insats" / request.param, scope="DEMO1")
    return delivery, insats.read(delivery)


def test_sample_raw_frame_drops_namn(sample, cell_values):
    _, raw = sample
    assert list(raw.columns) == ["row_number"] + [c.name for c in insats.SPEC.columns]
    assert raw["row_number"].tolist() == [2, 3, 4, 5, 6, 7]
    assert not {"Anna Exempel", "Bo Exempel"} & cell_values(raw)
    assert raw.loc[0, "kommun"] == "0980"


def test_sample_conformed(sample, people, cell_values):
    delivery, raw = sample
    result = insats.conform(raw, delivery)
    frame = result.frame.set_index("row_number")

    assert list(result.frame.columns) == OUTPUT
    assert result.rows_read == 6
    assert frame.index.tolist() == [2, 3, 4, 5, 6]
    assert "Anna Exempel" not in cell_values(result.frame)
    anna = frame.loc[2]
    assert (anna["pnr"], anna["kon"]) == (people.anna, "K")
    assert anna["birth_date"] == pd.Timestamp("1980-01-02")
    assert anna["utskrivningsdatum"] == pd.Timestamp("2024-11-29")
    assert (anna["avslutsanledning"], anna["forsorjning_ut"], anna["kommun"]) == ("ARB", "LON", "0980")
    assert frame.loc[3, "forsorjning_in"] == "AKS,FSB"
    assert frame.loc[3, "kon"] == "M"                      # from the number; Kön left empty
    assert pd.isna(frame.loc[3, "utskrivningsdatum"])
    assert frame.loc[4, "anonym"] and pd.isna(frame.loc[4, "pnr"]) and frame.loc[4, "kon"] == "M"
    assert frame.loc[5, "pnr"] == people.carl               # 10-digit form with separator
    protected = frame.loc[6]
    assert protected["anonym"] and protected["skyddad_identitet"]
    assert pd.isna(protected["pnr"]) and pd.isna(protected["birth_date"])
    assert protected["kon"] == "K" and protected["id_kind"] == "saknas"

    assert len(result.issues) == 1
    issue = result.issues.iloc[0]
    assert (issue["row_number"], issue["column"], issue["rule"], issue["severity"]) == (
        7, "Personnummer", "ogiltigt personnummer", ERROR)
    assert issue["found"] == "19901228-****"
    assert result.extra[HELD_WARNINGS].empty


def test_sample_types(sample):
    delivery, raw = sample
    frame = insats.conform(raw, delivery).frame
    assert frame["row_number"].dtype == "int64"
    assert frame["anonym"].dtype == bool and frame["skyddad_identitet"].dtype == bool
    for name in ("inskrivningsdatum", "utskrivningsdatum", "birth_date"):
        assert pd.api.types.is_datetime64_dtype(frame[name])
    for name in ("insats", "pnr", "kon", "avslutsanledning", "forsorjning_in", "kommun"):
        assert isinstance(frame[name].dtype, pd.StringDtype)


@pytest.mark.parametrize("bom", [True, False])
def test_csv_with_or_without_bom_and_loose_headers(bom, write_text, make_delivery):
    headers = [f"  {h.upper()} " for h in HEADERS]
    lines = [";".join(headers), ";".join(base_row().values())]
    delivery = make_delivery("insats", write_text("20241130_DEMO1.csv", lines, bom=bom), scope="DEMO1")
    result = insats.conform(insats.read(delivery), delivery)
    assert result.issues.empty
    assert result.frame.loc[0, "pnr"] == ANNA


def test_cp1252_csv_is_rejected_with_its_line(tmp_path, make_delivery):
    # Headers written in UTF-8, the third line pasted in from a Windows-1252 source.
    utf8 = "\n".join([";".join(HEADERS), ";".join(base_row().values()), ""]).encode("utf-8")
    cp1252 = ";".join(base_row(Namn="Örjan Åström").values()).encode("cp1252")
    path = tmp_path / "20241130_DEMO1.csv"
    path.write_bytes(utf8 + cp1252 + b"\n")
    with pytest.raises(EncodingRejected, match=r"20241130_DEMO1\.csv, rad 3: tecknen kan inte läsas"):
        insats.read(make_delivery("insats", path, scope="DEMO1"))


def test_cp1252_file_is_rejected_at_its_header(write_text, make_delivery):
    path = write_text("20241130_DEMO1.csv", [";".join(HEADERS)], encoding="cp1252")
    with pytest.raises(EncodingRejected, match=r"20241130_DEMO1\.csv, rad 1"):
        insats.read(make_delivery("insats", path, scope="DEMO1"))


def test_missing_required_column_is_rejected_naming_file_and_column(write_text, make_delivery):
    headers = [h for h in HEADERS if h != "Inskrivningsdatum"]
    path = write_text("20241130_DEMO1.csv", [";".join(headers)])
    with pytest.raises(MissingColumn, match=r"20241130_DEMO1\.csv.*'Inskrivningsdatum'"):
        insats.read(make_delivery("insats", path, scope="DEMO1"))


def test_excel_cells_dates_numbers_and_lost_leading_zero(write_xlsx, make_delivery):
    row = base_row()
    row.update({"Personnummer": int(ANNA), "Inskrivningsdatum": dt.datetime(2024, 1, 15),
                "Utskrivningsdatum": dt.date(2024, 11, 29), "Tid i offentlig försörjning": 2,
                "Kommun": 980})
    path = write_xlsx("20241130_DEMO1.xlsx", "Deltagare", [HEADERS, list(row.values())],
                      styled_empty_rows=2)
    delivery = make_delivery("insats", path, scope="DEMO1")
    result = insats.conform(insats.read(delivery), delivery)
    assert result.issues.empty and result.rows_read == 1
    got = result.frame.iloc[0]
    assert (got["pnr"], got["kommun"], got["tid_offentlig_forsorjning"]) == (ANNA, "0980", "2")
    assert got["inskrivningsdatum"] == pd.Timestamp("2024-01-15")
    assert got["utskrivningsdatum"] == pd.Timestamp("2024-11-29")


def test_workbook_without_deltagare_sheet_is_rejected(write_xlsx, make_delivery):
    path = write_xlsx("20241130_DEMO1.xlsx", "Blad1", [HEADERS])
    with pytest.raises(DeliveryRejected, match=r"20241130_DEMO1\.xlsx.*'Deltagare'"):
        insats.read(make_delivery("insats", path, scope="DEMO1"))


def test_valid_row_has_no_issue(conform_rows):
    result = conform_rows(base_row())
    assert result.issues.empty and len(result.frame) == 1


@pytest.mark.parametrize("changes, column, rule", [
    ({"Personnummer": ""}, "Personnummer", "värde saknas"),
    ({"Personnummer": "19800102-2387"}, "Personnummer", "ogiltigt personnummer"),
    ({"Anonym": ""}, "Anonym", "värde saknas"),
    ({"Anonym": "Kanske"}, "Anonym", "ogiltigt värde"),
    ({"Skyddad identitet": "X"}, "Skyddad identitet", "ogiltigt värde"),
    ({**ANONYMOUS, "Kön": ""}, "Kön", "värde saknas"),
    ({"Kön": "M"}, "Kön", "stämmer inte med personnumret"),
    ({"Kön": "Q"}, "Kön", "okänd kod"),
    ({"Aktualiserande part": ""}, "Aktualiserande part", "värde saknas"),
    ({"Aktualiserande part": "POLIS"}, "Aktualiserande part", "okänd kod"),
    ({"Inskrivningsdatum": ""}, "Inskrivningsdatum", "värde saknas"),
    ({"Inskrivningsdatum": "2024-02-30", **ENROLLED}, "Inskrivningsdatum", "ogiltigt datum"),
    ({"Inskrivningsdatum": "1999-12-31"}, "Inskrivningsdatum", "före 2000-01-01"),
    ({"Inskrivningsdatum": "2024-12-01", **ENROLLED}, "Inskrivningsdatum", "efter uttagsdatum"),
    ({"Utskrivningsdatum": "29/11/2024"}, "Utskrivningsdatum", "ogiltigt datum"),
    ({"Utskrivningsdatum": "2024-01-14"}, "Utskrivningsdatum", "före inskrivningsdatum"),
    ({"Utskrivningsdatum": "2024-12-01"}, "Utskrivningsdatum", "efter uttagsdatum"),
    ({"Avslutsanledning": ""}, "Avslutsanledning", "värde saknas"),
    ({"Avslutsanledning": "PENSION"}, "Avslutsanledning", "okänd kod"),
    ({**ENROLLED, "Avslutsanledning": "ARB"}, "Avslutsanledning",
     "avslutsanledning utan utskrivningsdatum"),
    ({"Försörjning vid inskrivning": ""}, "Försörjning vid inskrivning", "värde saknas"),
    ({"Försörjning vid inskrivning": "ING,SJP"}, "Försörjning vid inskrivning",
     "okänd kod eller otillåten kombination"),
    ({"Försörjning vid inskrivning": "SJP,XYZ"}, "Försörjning vid inskrivning",
     "okänd kod eller otillåten kombination"),
    ({"Försörjning vid utskrivning": ""}, "Försörjning vid utskrivning", "värde saknas"),
    ({"Tid i offentlig försörjning": "10"}, "Tid i offentlig försörjning", "okänd kod"),
    ({"Utbildningsnivå": ""}, "Utbildningsnivå", "värde saknas"),
    ({"Kommun": ""}, "Kommun", "värde saknas"),
    ({"Kommun": "98"}, "Kommun", "ogiltig kommunkod"),
    ({"Kommun": "Visby"}, "Kommun", "ogiltig kommunkod"),
    ({"Insats": "DEMO2"}, "Insats", "annan insats än i filnamnet"),
])
def test_rule_fails_the_row(changes, column, rule, conform_rows, issue_keys):
    result = conform_rows(base_row(**changes))
    assert issue_keys(result.issues) == {(2, column, rule, ERROR)}
    assert result.frame.empty and result.extra[HELD_WARNINGS].empty
    assert result.rows_read == 1


def test_invalid_number_is_masked_in_the_issue(conform_rows):
    result = conform_rows(base_row(Personnummer="19800102-2387"))
    assert result.issues["found"].tolist() == ["19800102-****"]


def test_codes_are_matched_case_insensitively_and_normalised(conform_rows):
    result = conform_rows(base_row(**{"Insats": "demo1", "Aktualiserande part": " fk ",
                                      "Försörjning vid inskrivning": "sjp, aks,SJP",
                                      "Utbildningsnivå": "gy_kort", "Anonym": "NEJ"}))
    assert result.issues.empty
    row = result.frame.iloc[0]
    assert row["insats"] == "DEMO1" and row["aktualiserande_part"] == "FK"
    assert row["forsorjning_in"] == "AKS,SJP" and row["utbildningsniva"] == "GY_KORT"


def test_fel_discharge_needs_no_forsorjning_vid_utskrivning(conform_rows):
    result = conform_rows(base_row(**{"Avslutsanledning": "fel", "Försörjning vid utskrivning": ""}))
    assert result.issues.empty
    assert result.frame.loc[0, "avslutsanledning"] == "FEL"


def test_anonymous_row_needs_only_kon_and_inskrivningsdatum(conform_rows):
    result = conform_rows(base_row(**ANONYMOUS, Kön="m"))
    assert result.issues.empty
    row = result.frame.iloc[0]
    assert row["anonym"] and row["kon"] == "M" and pd.isna(row["pnr"])


@pytest.mark.parametrize("changes", [{"Anonym": "Ja"}, {"Skyddad identitet": "Ja"},
                                     {"Skyddad identitet": "Ja", "Kön": ""}])
def test_anonymous_or_protected_row_keeps_no_identity(changes, conform_rows):
    result = conform_rows(base_row(**changes))
    assert result.issues.empty
    row = result.frame.iloc[0]
    assert row["anonym"] and pd.isna(row["pnr"]) and pd.isna(row["birth_date"])
    assert row["id_kind"] == "saknas" and row["kon"] == "K"


def test_anonym_ja_requires_kon_even_with_a_number(conform_rows, issue_keys):
    result = conform_rows(base_row(Anonym="Ja", Kön=""))
    assert issue_keys(result.issues) == {(2, "Kön", "värde saknas", ERROR)}


@pytest.mark.parametrize("who, enrolled, age", [
    ("child", "2024-03-01", 14),
    ("turns_16", "2023-12-31", 15),
    ("turns_65", "2024-01-02", 65),
    ("senior", "2024-03-01", 74),
])
def test_age_outside_16_64_is_a_warning_and_the_row_is_held(who, enrolled, age, people,
                                                           conform_rows, issue_keys):
    number = getattr(people, who)
    kon = "M" if int(number[10]) % 2 else "K"
    result = conform_rows(base_row(Personnummer=number, Kön=kon, Inskrivningsdatum=enrolled))
    assert issue_keys(result.issues) == {(2, "Personnummer", "ålder utanför 16–64 år", WARNING)}
    assert result.issues.loc[0, "found"] == f"{age} år"
    assert result.frame.empty
    held = result.extra[HELD_WARNINGS]
    assert list(held.columns) == OUTPUT and held["pnr"].tolist() == [number]


@pytest.mark.parametrize("who, enrolled", [("turns_16", "2024-01-01"), ("turns_65", "2024-01-01")])
def test_age_16_and_64_are_accepted(who, enrolled, people, conform_rows):
    number = getattr(people, who)
    kon = "M" if int(number[10]) % 2 else "K"
    result = conform_rows(base_row(Personnummer=number, Kön=kon, Inskrivningsdatum=enrolled))
    assert result.issues.empty and len(result.frame) == 1


def test_error_and_warning_on_one_row_fail_it(people, conform_rows):
    result = conform_rows(base_row(Personnummer=people.child, Kommun="1"))
    assert set(result.issues["severity"]) == {ERROR, WARNING}
    assert result.frame.empty and result.extra[HELD_WARNINGS].empty


def spell(start: str, end: str = "", reason: str = "ARB") -> dict[str, str]:
    if not end:
        return base_row(Inskrivningsdatum=start, **ENROLLED)
    return base_row(Inskrivningsdatum=start, Utskrivningsdatum=end, Avslutsanledning=reason)


@pytest.mark.parametrize("first, second", [
    (spell("2024-01-15", "2024-03-31"), spell("2024-03-31")),
    (spell("2024-01-15"), spell("2024-06-01", "2024-07-01")),
    (spell("2024-01-15", "2024-09-30"), spell("2024-03-01", "2024-04-30")),
])
def test_overlapping_spells_fail_both_rows(first, second, conform_rows, issue_keys):
    result = conform_rows(first, second, base_row(Personnummer="198112279297", Kön="M"))
    rule = "överlappande inskrivningar"
    assert issue_keys(result.issues) == {(2, "Inskrivningsdatum", rule, ERROR),
                                         (3, "Inskrivningsdatum", rule, ERROR)}
    assert result.frame["row_number"].tolist() == [4]


def test_snapshots_conformed_together_compare_spells_within_their_own_file(
        write_text, make_delivery, issue_keys):
    # The same spell in two snapshots is one spell twice, never an overlap; each file's own
    # overlapping pair is reported in that file only.
    one = [spell("2024-01-15", "2024-09-30")]
    two = [spell("2024-01-15", "2024-09-30"), spell("2024-03-01", "2024-04-30")]
    deliveries = []
    for name, rows in (("20241130_DEMO1.csv", one), ("20241231_DEMO1.csv", two)):
        lines = [";".join(HEADERS)] + [";".join(row.get(h, "") for h in HEADERS) for row in rows]
        deliveries.append(make_delivery("insats", write_text(name, lines), scope="DEMO1"))
    first, second = conform_many(insats.conform, [(insats.read(d), d) for d in deliveries])
    rule = "överlappande inskrivningar"
    assert first.issues.empty and first.frame["row_number"].tolist() == [2]
    assert issue_keys(second.issues) == {(2, "Inskrivningsdatum", rule, ERROR),
                                         (3, "Inskrivningsdatum", rule, ERROR)}


def test_consecutive_spells_and_fel_spells_do_not_overlap(conform_rows):
    result = conform_rows(spell("2024-01-15", "2024-03-30"), spell("2024-03-31"),
                          spell("2024-03-31", "2024-04-02", reason="FEL"))
    assert result.issues.empty and len(result.frame) == 3


def test_issues_never_hold_a_complete_identity_number(people, conform_rows):
    result = conform_rows(base_row(Personnummer="19800102-2387"),
                          base_row(Personnummer=people.child, Kön="K"),
                          spell("2024-01-15"), spell("2024-02-01"))
    assert not result.issues.empty
    assert not result.issues["found"].str.contains(r"\d{10}").any()


def test_header_only_file_gives_empty_typed_frames(conform_rows):
    result = conform_rows()
    assert result.rows_read == 0 and result.issues.empty
    for frame in (result.frame, result.extra[HELD_WARNINGS]):
        assert list(frame.columns) == OUTPUT
        assert frame["inskrivningsdatum"].dtype == "datetime64[us]"
