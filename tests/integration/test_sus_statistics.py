"""SUS statistics from a small hand-counted landing zone, through the warehouse to the workbook.

Period 2024. The register's rows and where each must count (worked out by hand):
  Anna  K 2024-02-01 open, SJP+AKS                  new; counts under both codes; 44 years
  Bo    M 2023-03-01 -> 2024-03-01 ARB              at start; ended exactly 12 months later
  Bo    M 2024-05-01 open, FSB                      new; same person as above; 42 years
  Carl  M 2023-03-01 -> 2024-03-02 SJK              at start; 12 months and a day: 13-18 months
  Eva   K 2024-03-01 -> 2024-04-01 FEL              registered in error: nowhere
  anon  M 2024-06-01 (Anonym = Ja)                  new, anonymous: overview only
  prot  K 2024-07-01 (Skyddad identitet = Ja)       new, anonymous: overview only
  W     K 2024-04-01 open, AKA; withdraws 09-15     new; ended AVB 2024-09-15; 25 years
  P9    M 2023-10-01 open, ING                      at start, still enrolled at the end
  P10   K 2024-12-31 open, STS                      new on the last day; 25 years
"""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from assets.ingest.run import ingest_source
from assets.sus.assets import write_statistics
from assets.sus.warehouse_frames import read_catalogue, read_spells

HEADER = ("Insats;Personnummer;Namn;Anonym;Kön;Skyddad identitet;Aktualiserande part;"
          "Inskrivningsdatum;Utskrivningsdatum;Avslutsanledning;Försörjning vid inskrivning;"
          "Försörjning vid utskrivning;Tid i offentlig försörjning;Utbildningsnivå;Kommun")
ROWS = (
    "DEMO1;19800102-2386;Anna;Nej;K;Nej;FK;2024-02-01;;;SJP,AKS;;2;GY;0980",
    "DEMO1;198112279297;Bo;Nej;M;Nej;SOC;2023-03-01;2024-03-01;ARB;FSB;LON;3;FGY;0980",
    "DEMO1;198112279297;Bo;Nej;M;Nej;SOC;2024-05-01;;;FSB;;3;FGY;0980",
    "DEMO1;199012282399;Carl;Nej;M;Nej;AF;2023-03-01;2024-03-02;SJK;AKS;SJP;1;GY;0980",
    "DEMO1;199504272387;Eva;Nej;K;Nej;AF;2024-03-01;2024-04-01;FEL;AKS;;1;GY;0980",
    "DEMO1;;;Ja;M;;;2024-06-01;;;;;;;",
    "DEMO1;20020301-2380;;Nej;K;Ja;UAF;2024-07-01;;;ING;;0;FGY;0980",
    "DEMO1;199901012386;W;Nej;K;Nej;AF;2024-04-01;;;AKA;;1;GY;0980",
    "DEMO1;198801012397;P9;Nej;M;Nej;HSF;2023-10-01;;;ING;;0;EGY;0980",
    "DEMO1;199901016809;P10;Nej;K;Nej;EGEN;2024-12-31;;;STS;;0;GY;0980",
)
CONSENTS = ("Personnummer;Insats;Samtycke från;Giltigt till;Återkallat;Parter;SUS",
            "198001022386;DEMO1;2024-01-10;;;AF,FK;Ja",
            "199901012386;DEMO1;2024-03-20;;2024-09-15;AF,FK;Ja")


@pytest.fixture
def workbook(sample_landing, engine, keys, tmp_path):
    for name in ("insats", "samtycke"):
        for path in (sample_landing / name).iterdir():
            path.unlink()
    (sample_landing / "insats" / "20250110_DEMO1.csv").write_text(
        "\n".join((HEADER, *ROWS)) + "\n", encoding="utf-8-sig")
    (sample_landing / "samtycke" / "20250110.csv").write_text("\n".join(CONSENTS) + "\n",
                                                              encoding="utf-8")
    for source in ("budget", "insats", "samtycke"):
        ingest_source(source, sample_landing, engine, keys)
    with engine.connect() as connection:
        spells = read_spells(connection)
        catalogue = read_catalogue(connection, 2024)
    files = write_statistics(spells, catalogue, dt.date(2024, 1, 1), dt.date(2024, 12, 31),
                             tmp_path / "out", min_cell=3)
    return openpyxl.load_workbook(files["intern"], data_only=True)


def _table(sheet, name: str) -> pd.DataFrame:
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row and row[0] == name)
    header = [cell for cell in rows[start + 1][1:] if cell is not None]
    body = []
    for row in rows[start + 2:]:
        if not row or row[0] is None:
            break
        body.append(row[:len(header) + 1])
    frame = pd.DataFrame(body, columns=["rad", *header]).set_index("rad")
    return frame.fillna(0)


def test_overview(workbook):
    overview = _table(workbook["DEMO1"], "Översikt")["Antal"].to_dict()
    assert overview == {"Inskrivna vid periodens början": 3, "Nyinskrivna": 6, "varav anonyma": 2,
                        "Utskrivna": 3, "Inskrivna vid periodens slut": 6, "Unika personer": 8}


def test_forsorjning_counts_a_spell_with_two_codes_under_both(workbook):
    table = _table(workbook["DEMO1"], "Försörjning vid inskrivning")
    counted = table.loc[table["Totalt"] > 0]
    assert {label[:12]: tuple(row) for label, row in counted.iterrows()} == {
        "Sjukpenning ": (1, 0, 1), "Aktivitetsst": (1, 0, 1), "Arbetslöshet": (1, 0, 1),
        "Försörjnings": (0, 1, 1), "Studiestöd": (1, 0, 1)}


def test_age_and_months_in_the_insats(workbook):
    age = _table(workbook["DEMO1"], "Ålder vid inskrivning")
    assert age.loc["16–29"].tolist() == [2, 0, 2] and age.loc["40–49"].tolist() == [1, 1, 2]
    months = _table(workbook["DEMO1"], "Tid i insatsen")
    assert months.loc["Upp till 12 mån"].tolist() == [1, 1, 2]     # Bo exactly 12, W (AVB)
    assert months.loc["13–18 mån"].tolist() == [0, 1, 1]           # Carl, 12 months and a day


def test_exits_and_goal_attainment(workbook):
    exits = _table(workbook["DEMO1"], "Utskrivna per avslutsanledning")
    nonzero = {(row, column): value for row, values in exits.iterrows()
               for column, value in values.items() if value}
    assert nonzero == {("Kvinna", "Avbrutet av deltagaren (även återkallat samtycke)"): 1,
                       ("Kvinna", "Totalt"): 1, ("Man", "Arbete (även anställning med stöd)"): 1,
                       ("Man", "Sjukdom, överlämnad till hälso- och sjukvården"): 1,
                       ("Man", "Totalt"): 2,
                       ("Totalt", "Avbrutet av deltagaren (även återkallat samtycke)"): 1,
                       ("Totalt", "Arbete (även anställning med stöd)"): 1,
                       ("Totalt", "Sjukdom, överlämnad till hälso- och sjukvården"): 1,
                       ("Totalt", "Totalt"): 3}
    goals = _table(workbook["DEMO1"], "Måluppfyllelse")
    assert goals["Totalt"].round(4).tolist() == [round(1 / 3, 4)] * 3
    assert goals["Män"].tolist() == [0.5, 0.5, 0]
