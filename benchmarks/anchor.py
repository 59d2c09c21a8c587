"""The honest anchor: the essential ingestion work, written a second time with polars.

finsam's benchmark needs a floor to be measured against that does the same work, not less. This is
that work and nothing more, written independently of finsam's transforms (it shares only the code
lists, the file-name masking and the key's purpose string, which are data, not computation):

* read the consent register and the partners' CSV deliveries (fk, soc, hsf) of one förbund;
* normalise identity numbers with the contract's century rule (a 10-digit number's century follows
  from the separator and the *extraction date*), and keep only valid personnummer and
  samordningsnummer (Luhn, calendar date, day + 60, individnummer 000 invalid);
* HMAC-SHA256 once per distinct person, with the same key and purpose as finsam;
* the consent register is a snapshot: the newest one (extraction date, then file name) replaces
  the table; whoever it shows fully withdrawn is erased from that day (their consents up to it go,
  and their partner records dated up to it are never stored);
* a partner record is stored only under a consent naming the partner in force at the record's time
  as known on the extraction day; unknown codes are left out;
* newest version (extraction date | file | row) wins by natural key;
* load: SQLite ``executemany`` or PostgreSQL ``COPY``.

Not done here (finsam does it, the anchor leaves it out, so the ratio is finsam's price for it):
the manifest and its notices, validation reports and quarantine, the vault, the AF workbooks, the
insats register (spells), the ledger and the budget, and every output. ``compare`` asserts that
the anchor's tables equal finsam's on the same landing zone: same keys, values and lineage.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import polars as pl

FOLLOW_UP_PURPOSE = "finsam-uppfoljning-v1"   # the same purpose string as finsam.privacy
_FORM = r"^(\d{2})?(\d{6})([-+]?)(\d{4})$"
_SEP = "|"

# source -> (folder, encoding, separator, quoted, identity column)
FILES = {
    "samtycke": ("samtycke", "utf-8-sig", ";", True, "Personnummer"),
    "fk": ("fk", "cp1252", ";", True, "PERSONNR"),
    "soc": ("soc", "utf-8-sig", ",", True, "pnr"),
    "hsf": ("hsf", "utf-8", "|", False, "PATIENT_ID"),
}
#: the anchor's tables: finsam's table names and the columns compared (lineage included)
COLUMNS = {
    "consent": ("record_key", "pseudonym", "insats", "samtycke_fran", "giltigt_till", "aterkallat",
                "parter", "sus", "extraction_date", "row_number", "file_name"),
    "fk_benefit": ("record_key", "pseudonym", "forman", "forsorjning", "omfattning", "fom", "tom",
                   "extraction_date", "row_number", "file_name", "version"),
    "soc_payment": ("record_key", "pseudonym", "manad", "belopp", "extraction_date", "row_number",
                    "file_name", "version"),
    "hsf_contact": ("record_key", "pseudonym", "kontaktdatum", "kontakttyp", "sjukskriven_fom",
                    "sjukskriven_tom", "sjukskrivningsgrad", "extraction_date", "row_number",
                    "file_name", "version"),
}
DATE_COLUMNS = {"samtycke_fran", "giltigt_till", "aterkallat", "fom", "tom", "kontaktdatum",
                "sjukskriven_fom", "sjukskriven_tom", "extraction_date"}


class Clock:
    """Wall and CPU seconds per stage."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def __call__(self, stage: str):
        clock = self

        class _Timer:
            def __enter__(self):
                self.started = time.perf_counter(), time.process_time()

            def __exit__(self, *_):
                clock.wall[stage] += time.perf_counter() - self.started[0]
                clock.cpu[stage] += time.process_time() - self.started[1]
        return _Timer()


# --- read ----------------------------------------------------------------------------------------

def _read(landing: Path, source: str) -> pl.DataFrame:
    from finsam.masking import file_name as shown_name

    folder, encoding, separator, quoted, _ = FILES[source]
    frames = []
    for path in sorted((landing / folder).glob("*")):
        if not path.is_file() or not path.name[:8].isdigit():
            continue
        # polars reads UTF-8 only: decode in C, hand it the text
        text = path.read_bytes().decode(encoding)
        frame = pl.read_csv(text.encode(), separator=separator, infer_schema=False,
                            quote_char='"' if quoted else None)
        extracted = date(int(path.name[:4]), int(path.name[4:6]), int(path.name[6:8]))
        frames.append(frame.with_columns(
            pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias("row_number"),
            pl.lit(extracted).alias("extraction_date"),
            pl.lit(shown_name(path.name)).alias("file_name")))
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame()


# --- identity ------------------------------------------------------------------------------------

def _valid(long_form: str) -> bool:
    """A valid personnummer or samordningsnummer in 12-digit form."""
    try:
        year, month, day = int(long_form[:4]), int(long_form[4:6]), int(long_form[6:8])
        date(year, month, day - 60 if day > 60 else day)
    except ValueError:
        return False
    if long_form[8:11] == "000":
        return False
    total = 0
    for position, digit in enumerate(long_form[2:]):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalised(frame: pl.DataFrame, column: str, key: bytes) -> pl.DataFrame:
    """``pnr`` (12 digits, valid only) and ``pseudonym`` beside the rows, worked out once per
    distinct (value, extraction year); rows without a valid number are left out."""
    pairs = (frame.select(pl.col(column).alias("_raw"), pl.col("extraction_date").dt.year()
                          .alias("_year")).unique())
    text = pl.col("_raw").str.strip_chars()
    parts = pairs.with_columns(
        text.str.extract(_FORM, 1).alias("_cc"), text.str.extract(_FORM, 2).alias("_ymd"),
        text.str.extract(_FORM, 3).alias("_sep"), text.str.extract(_FORM, 4).alias("_tail"))
    base = pl.col("_year").cast(pl.Int64) - pl.when(pl.col("_sep") == "+").then(100).otherwise(0)
    yy = pl.col("_ymd").str.slice(0, 2).cast(pl.Int64)
    century = ((base - ((base - yy) % 100)) // 100).cast(pl.String).str.zfill(2)
    parts = parts.with_columns(
        pl.coalesce(pl.col("_cc"), century).add(pl.col("_ymd")).add(pl.col("_tail")).alias("pnr"))
    distinct = parts["pnr"].drop_nulls().unique().to_list()
    valid = [value for value in distinct if _valid(value)]
    pseudonyms = pl.DataFrame({
        "pnr": valid,
        "pseudonym": [hmac.digest(key, value.encode(), "sha256").hex() for value in valid]})
    people = parts.select("_raw", "_year", "pnr").join(pseudonyms, on="pnr", how="inner")
    return (frame.with_columns(pl.col("extraction_date").dt.year().alias("_year"))
            .join(people, left_on=[column, "_year"], right_on=["_raw", "_year"], how="inner")
            .drop("_year"))


# --- parsing helpers -----------------------------------------------------------------------------

def _date(column: str, formats: tuple[str, ...] = ("%Y-%m-%d",)) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return pl.coalesce([text.str.strptime(pl.Date, fmt, strict=False) for fmt in formats])


def _amount(column: str) -> pl.Expr:
    return (pl.col(column).str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".")
            .str.replace("\u2212", "-").cast(pl.Float64, strict=False))


def _code(column: str, code_list: str) -> pl.Expr:
    from finsam.reference import codes

    valid = {code.upper(): code for code in codes(code_list)}
    return pl.col(column).str.strip_chars().str.to_uppercase().replace_strict(
        valid, default=None, return_dtype=pl.String)


def _key(*columns: str) -> pl.Expr:
    parts = [pl.col(name).cast(pl.String).fill_null("") for name in columns]
    return pl.concat_str(parts, separator=_SEP).alias("record_key")


def _version() -> pl.Expr:
    return pl.concat_str([pl.col("extraction_date").dt.strftime("%Y-%m-%d"), pl.col("file_name"),
                          pl.col("row_number").cast(pl.String).str.zfill(10)],
                         separator=_SEP).alias("version")


# --- consents ------------------------------------------------------------------------------------

def consents(landing: Path, key: bytes, clock: Clock) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the consent table, erased_on per pseudonym) from the newest consent register."""
    with clock("read"):
        raw = _read(landing, "samtycke")
        newest = raw.select("extraction_date", "file_name").unique().sort(
            ["extraction_date", "file_name"]).tail(1)
        raw = raw.join(newest, on=["extraction_date", "file_name"])
    with clock("normalise + pseudonymise"):
        frame = normalised(raw, "Personnummer", key)
    with clock("consent"):
        from finsam.reference import codes

        partners = sorted(code.upper() for code in codes("partner"))
        parter = (pl.col("Parter").str.to_uppercase().str.split(",")
                  .list.eval(pl.element().str.strip_chars()).list.eval(
                      pl.element().filter(pl.element() != "")).list.unique().list.sort())
        frame = frame.with_columns(
            pl.col("Insats").str.to_uppercase().alias("insats"),
            _date("Samtycke från").alias("samtycke_fran"),
            _date("Giltigt till").alias("giltigt_till"),
            _date("Återkallat").alias("aterkallat"),
            parter.alias("_parter"),
            pl.col("SUS").str.strip_chars().str.to_lowercase().replace_strict(
                {"ja": True, "nej": False}, default=None, return_dtype=pl.Boolean).alias("sus"))
        frame = frame.filter(pl.col("_parter").list.eval(pl.element().is_in(partners)).list.all()
                             & pl.col("sus").is_not_null() & pl.col("samtycke_fran").is_not_null())
        frame = frame.with_columns(pl.col("_parter").list.join(",").alias("parter"))
        erased = erasure_days(frame)
        kept = frame.join(erased, on="pseudonym", how="left").filter(
            pl.col("erased_on").is_null() | (pl.col("samtycke_fran") > pl.col("erased_on")))
        table = kept.with_columns(_key("pseudonym", "insats", "samtycke_fran")).select(
            COLUMNS["consent"])
    return table, erased


def erasure_days(frame: pl.DataFrame) -> pl.DataFrame:
    """Per person, the first withdrawal day on which none of their consents given by then is
    still unwithdrawn."""
    days = (frame.filter(pl.col("aterkallat").is_not_null())
            .select("pseudonym", pl.col("aterkallat").alias("day")).unique())
    pairs = days.join(frame.select("pseudonym", "samtycke_fran", "aterkallat"), on="pseudonym")
    blocked = pairs.filter((pl.col("samtycke_fran") <= pl.col("day"))
                           & (pl.col("aterkallat").is_null() | (pl.col("aterkallat") > pl.col("day")))
                           ).select("pseudonym", "day").unique()
    ends = days.join(blocked, on=["pseudonym", "day"], how="anti")
    return ends.group_by("pseudonym").agg(pl.col("day").min().alias("erased_on"))


# --- partners ------------------------------------------------------------------------------------

def _fk(raw: pl.DataFrame) -> pl.DataFrame:
    from finsam.reference import mapping

    fmt = ("%Y%m%d", "%Y-%m-%d")
    frame = raw.with_columns(
        _code("FORMAN", "fk_forman").alias("forman"),
        _amount("OMFATTNING").alias("omfattning"),
        pl.when(pl.col("FOM").str.contains(r"^(\d{8}|\d{4}-\d{2}-\d{2})$")).then(pl.col("FOM"))
        .pipe(lambda e: e).alias("_fom"),
        pl.when(pl.col("TOM").str.contains(r"^(\d{8}|\d{4}-\d{2}-\d{2})$")).then(pl.col("TOM"))
        .alias("_tom"))
    frame = frame.with_columns(_date("_fom", fmt).alias("fom"), _date("_tom", fmt).alias("tom"),
                               pl.col("forman").replace_strict(mapping("fk_forman", "forsorjning"),
                                                               default=None).alias("forsorjning"))
    frame = frame.filter(pl.col("forman").is_not_null() & pl.col("fom").is_not_null())
    return frame.with_columns(_key("pseudonym", "forman", "fom"), pl.col("fom").alias("_start"),
                              pl.col("tom").alias("_end"))


def _soc(raw: pl.DataFrame) -> pl.DataFrame:
    month = pl.col("manad").str.strip_chars()
    frame = raw.with_columns(
        pl.when(month.str.contains(r"^\d{4}-\d{2}$")).then(month).alias("_month"),
        _amount("belopp").alias("belopp"))
    frame = frame.with_columns((pl.col("_month") + "-01").str.strptime(pl.Date, "%Y-%m-%d",
                                                                       strict=False).alias("_start"))
    frame = frame.filter(pl.col("_start").is_not_null()).with_columns(
        pl.col("_start").dt.strftime("%Y-%m").alias("manad"),
        pl.col("_start").dt.month_end().alias("_end"))
    return frame.with_columns(_key("pseudonym", "manad"))


def _hsf(raw: pl.DataFrame) -> pl.DataFrame:
    frame = raw.with_columns(
        _date("KONTAKTDATUM").alias("kontaktdatum"),
        _code("KONTAKTTYP", "hsf_kontakttyp").alias("kontakttyp"),
        _date("SJUKSKRIVEN_FOM").alias("sjukskriven_fom"),
        _date("SJUKSKRIVEN_TOM").alias("sjukskriven_tom"),
        _amount("SJUKSKRIVNINGSGRAD").alias("sjukskrivningsgrad"))
    frame = frame.filter(pl.col("kontaktdatum").is_not_null() & pl.col("kontakttyp").is_not_null())
    return frame.with_columns(_key("pseudonym", "kontaktdatum", "kontakttyp"),
                              pl.col("kontaktdatum").alias("_start"),
                              pl.col("kontaktdatum").alias("_end"))


PARTNERS = {  # source -> (table, partner code in the consent, conform)
    "fk": ("fk_benefit", "FK", _fk),
    "soc": ("soc_payment", "SOC", _soc),
    "hsf": ("hsf_contact", "HSF", _hsf),
}


def partner(landing: Path, source: str, key: bytes, consent: pl.DataFrame, erased: pl.DataFrame,
            clock: Clock) -> pl.DataFrame:
    table, code, conform = PARTNERS[source]
    with clock("read"):
        raw = _read(landing, source)
    with clock("normalise + pseudonymise"):
        frame = normalised(raw, FILES[source][4], key)
    with clock("read"):
        frame = conform(frame)
    with clock("consent"):
        # never stored: an erased person's records dated up to the erasure
        frame = frame.join(erased, on="pseudonym", how="left").filter(
            pl.col("erased_on").is_null() | (pl.col("_start") > pl.col("erased_on")))
        # what was known on the extraction day ends an open or later period there
        end = pl.when(pl.col("_end").is_not_null() & (pl.col("_end") <= pl.col("extraction_date"))
                      ).then(pl.col("_end")).otherwise(pl.col("extraction_date"))
        records = frame.with_row_index("_row").with_columns(end.alias("_known_end"))
        naming = consent.filter(pl.col("parter").str.contains(rf"(?:^|,){code}(?:,|$)"))
        until = pl.min_horizontal(pl.col("giltigt_till"), pl.col("aterkallat") - pl.duration(days=1))
        naming = naming.select("pseudonym", "samtycke_fran", until.alias("_until"))
        allowed = (records.select("_row", "pseudonym", "_start", "_known_end")
                   .join(naming, on="pseudonym", how="inner")
                   .filter((pl.col("_known_end") >= pl.col("samtycke_fran"))
                           & (pl.col("_until").is_null() | ((pl.col("_start") <= pl.col("_until"))
                              & (pl.col("_until") >= pl.col("samtycke_fran")))))
                   .select("_row").unique())
        frame = records.join(allowed, on="_row", how="semi")
    with clock("newest wins"):
        frame = frame.with_columns(_version())
        frame = frame.sort(["record_key", "version"]).unique("record_key", keep="last",
                                                             maintain_order=True)
    return frame.select(COLUMNS[table])


# --- load ----------------------------------------------------------------------------------------

def _ddl(table: str, frame: pl.DataFrame, postgres: bool) -> str:
    types = {pl.String: "TEXT", pl.Int64: "BIGINT", pl.Float64: "DOUBLE PRECISION" if postgres
             else "REAL", pl.Date: "DATE", pl.Boolean: "BOOLEAN"}
    columns = ", ".join(f"{name} {types[frame.schema[name]]}" for name in frame.columns)
    return f"CREATE TABLE {table} (id {'BIGSERIAL' if postgres else 'INTEGER'} PRIMARY KEY, " \
           f"{columns}, UNIQUE (record_key))"


def load(url: str, tables: dict[str, pl.DataFrame]) -> None:
    """Replace each table (the anchor's warehouse holds only its own tables)."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        with connection:
            for name, frame in tables.items():
                connection.execute(f"DROP TABLE IF EXISTS {name}")
                connection.execute(_ddl(name, frame, postgres=False))
                out = frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
                marks = ", ".join("?" for _ in frame.columns)
                connection.executemany(
                    f"INSERT INTO {name} ({', '.join(frame.columns)}) VALUES ({marks})",
                    out.iter_rows())
        connection.close()
        return
    import psycopg2

    connection = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    with connection, connection.cursor() as cursor:
        for name, frame in tables.items():
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(_ddl(name, frame, postgres=True))
            buffer = io.StringIO(frame.write_csv(null_value="\\N"))
            buffer.readline()
            cursor.copy_expert(f"COPY {name} ({', '.join(frame.columns)}) FROM STDIN "
                               "WITH (FORMAT csv, NULL '\\N')", buffer)
    connection.close()


def pseudonym_key(master_key: bytes) -> bytes:
    """The purpose key finsam derives from its master key (HMAC of the purpose string)."""
    return hmac.new(master_key, FOLLOW_UP_PURPOSE.encode(), hashlib.sha256).digest()


def run(landing: Path, url: str, master_key: bytes) -> dict:
    """The anchor over one förbund's landing zone into ``url``; stage times and rows."""
    clock = Clock()
    started, cpu = time.perf_counter(), time.process_time()
    key = pseudonym_key(master_key)
    consent, erased = consents(landing, key, clock)
    tables = {"consent": consent}
    for source, (table, _, _) in PARTNERS.items():
        tables[table] = partner(landing, source, key, consent, erased, clock)
    with clock("load"):
        load(url, tables)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "stages": dict(clock.wall), "stage_cpu": dict(clock.cpu),
            "rows": {name: frame.height for name, frame in tables.items()}}


# --- equality ------------------------------------------------------------------------------------

def _as_text(frame, columns) -> list[tuple]:
    """Rows as comparable text tuples, sorted (dates ISO, numbers as floats, booleans as 0/1)."""
    import pandas as pd

    out = []
    for name in columns:
        values = frame[name]
        if name in DATE_COLUMNS:
            values = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
        elif name in ("omfattning", "belopp", "sjukskrivningsgrad"):
            values = pd.to_numeric(values).round(6)
        elif name == "sus":
            values = values.astype(bool).astype(int)
        elif name == "row_number":
            values = values.astype("int64")
        out.append(values.astype(object).where(values.notna(), None).tolist())
    return sorted(zip(*out), key=lambda row: tuple("" if v is None else str(v) for v in row))


def compare(finsam_url: str, anchor_url: str) -> dict[str, int]:
    """Assert the anchor's tables equal finsam's (every column of ``COLUMNS``, the delivery's file
    name standing for finsam's delivery id); returns rows per table. Raises AssertionError naming
    the table and how many rows differ."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    finsam, anchor = create_engine(finsam_url), create_engine(anchor_url)
    counts = {}
    try:
        for table, columns in COLUMNS.items():
            ours = [c for c in columns if c != "file_name"]
            query = (f"SELECT {', '.join('t.' + c for c in ours)}, d.file_name FROM {table} t "
                     f"JOIN delivery d ON d.id = t.delivery_id")
            with finsam.connect() as connection:
                left = pd.read_sql(text(query), connection)
            with anchor.connect() as connection:
                right = pd.read_sql(text(f"SELECT {', '.join(columns)} FROM {table}"), connection)
            left, right = _as_text(left, columns), _as_text(right, columns)
            if left != right:
                only_finsam = len(set(left) - set(right))
                only_anchor = len(set(right) - set(left))
                raise AssertionError(f"{table}: finsam {len(left)} rows, anchor {len(right)}; "
                                     f"{only_finsam} only in finsam, {only_anchor} only in the anchor")
            counts[table] = len(left)
    finally:
        finsam.dispose()
        anchor.dispose()
    return counts
