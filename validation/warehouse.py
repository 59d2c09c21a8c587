"""Pandera schemas for the warehouse tables, checked on every frame just before it is loaded.

A failure here is never the partner's mistake: the readers hold bad rows back. It means finsam
itself is about to store something it must not (an identity number, a malformed pseudonym, a
duplicate key), so the load stops and the transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pandera.pandas as pa

from finsam.errors import WarehouseSchemaViolation
from finsam.reference import codes

PSEUDONYM = r"^[0-9a-f]{64}$"
# an identity number in any contract form, as a whole value
IDENTITY_LIKE = r"^(?:\d{8}|\d{6})[-+]?\d{4}$|^\d{2}(?:\d{2})?[0-1]\d[0-3]\d[-+]?\d{4}$"


def _no_identity_values(frame: pd.DataFrame) -> bool:
    text = frame.select_dtypes(include=["object", "string"])
    # Only a value of 10-13 characters can match IDENTITY_LIKE: the regex runs on those alone,
    # once per distinct value (keys and pseudonyms are far longer, codes far shorter).
    candidates = [values[values.str.len().between(10, 13).fillna(False).astype(bool)]
                  for values in (text[name].astype("string") for name in text.columns)]
    if not candidates:
        return True
    distinct = pd.concat(candidates).drop_duplicates()
    return not distinct.str.fullmatch(IDENTITY_LIKE).fillna(False).any()


def _pseudonym_shaped(values: pd.Series) -> pd.Series:
    # Check.str_matches runs the regex on every row; a person recurs in many rows
    distinct = values.dropna().unique()
    shaped = distinct[pd.Series(distinct, dtype="string").str.fullmatch(PSEUDONYM)
                      .fillna(False).to_numpy(dtype=bool)]
    return values.isin(shaped)


# The same test and name as pandera's Check.str_matches(PSEUDONYM), run once per distinct value.
_PSEUDONYM_CHECK = pa.Check(_pseudonym_shaped, name="str_matches")


def _no_identity_columns(frame: pd.DataFrame) -> bool:
    return not {"pnr", "personnummer", "id_kind"} & set(frame.columns)


_GUARDS = [
    pa.Check(_no_identity_columns, name="inga identitetskolumner"),
    pa.Check(_no_identity_values, name="inga personnummer i textkolumner"),
]


def _lineage(nullable: bool = False) -> dict[str, pa.Column]:
    return {
        "delivery_id": pa.Column("Int64", nullable=nullable, coerce=True),
        "extraction_date": pa.Column("datetime64[ns]", nullable=nullable, coerce=True),
        "row_number": pa.Column("Int64", nullable=nullable, coerce=True),
    }


def _pointers_only_when_identified(frame: pd.DataFrame) -> pd.Series:
    """A de-identified spell points to no landing row; every other spell does."""
    deidentified = frame["deidentified_person"].notna() if "deidentified_person" in frame else False
    pointed = frame["delivery_id"].notna() & frame["row_number"].notna()
    return pointed != deidentified


_SPELL_GUARDS = [*_GUARDS, pa.Check(_pointers_only_when_identified,
                                    name="avidentifierad utan pekare, annars med")]


def _keyed(columns: dict[str, pa.Column], *, pseudonym_nullable: bool = False,
           lineage_nullable: bool = False, guards: list[pa.Check] = _GUARDS) -> pa.DataFrameSchema:
    base = {
        "record_key": pa.Column(nullable=False, unique=True),
        **_lineage(lineage_nullable),
    }
    base["pseudonym"] = pa.Column(nullable=pseudonym_nullable, checks=_PSEUDONYM_CHECK)
    return pa.DataFrameSchema({**base, **columns}, checks=guards, strict=False)


def _codes(name: str) -> pa.Check:
    return pa.Check.isin(sorted(codes(name)))


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "spell": _keyed({
        "insats": pa.Column(nullable=False),
        "anonym": pa.Column(bool, coerce=True), "skyddad_identitet": pa.Column(bool, coerce=True),
        "kon": pa.Column(nullable=True, checks=_codes("kon")),
        "inskrivningsdatum": pa.Column("datetime64[ns]", nullable=False, coerce=True),
        "age_at_enrolment": pa.Column("Int64", nullable=True, coerce=True,
                                      checks=pa.Check.in_range(0, 130)),
    }, pseudonym_nullable=True, lineage_nullable=True, guards=_SPELL_GUARDS),
    "consent": _keyed({"insats": pa.Column(nullable=False), "sus": pa.Column(bool, coerce=True)}),
    "fk_benefit": _keyed({"forsorjning": pa.Column(checks=_codes("forsorjning"))}),
    "af_support": _keyed({"ersattning": pa.Column(checks=_codes("af_stod"))}),
    "soc_payment": _keyed({"belopp": pa.Column(float, coerce=True, checks=pa.Check.gt(0))}),
    "hsf_contact": _keyed({"kontakttyp": pa.Column(checks=_codes("hsf_kontakttyp"))}),
    "ledger_entry": pa.DataFrameSchema({
        "record_key": pa.Column(nullable=False, unique=True), **_lineage(),
        "konto": pa.Column(int, coerce=True, checks=pa.Check.in_range(1000, 9999)),
        "account_class": pa.Column(checks=pa.Check.isin(["cost", "income", "ignored"])),
    }, checks=_GUARDS, strict=False),
    "budget_line": pa.DataFrameSchema({
        "year": pa.Column(int, coerce=True), "insats": pa.Column(),
        "kostnadsslag": pa.Column(checks=_codes("kostnadsslag")),
    }, checks=_GUARDS, strict=False),
    "budget_insats": pa.DataFrameSchema({
        "year": pa.Column(int, coerce=True), "insats": pa.Column(nullable=False, unique=True),
        "namn": pa.Column(nullable=False),
        "mal_andel": pa.Column(float, nullable=True, coerce=True, checks=pa.Check.in_range(0, 1)),
    }, checks=_GUARDS, strict=False),
    "budget_annual": pa.DataFrameSchema({
        "year": pa.Column(int, coerce=True), "insats": pa.Column(nullable=False, unique=True),
        "arsbudget": pa.Column(float, coerce=True),
    }, checks=_GUARDS, strict=False),
    "budget_financing": pa.DataFrameSchema({
        "year": pa.Column(int, coerce=True), "finansiar": pa.Column(nullable=False),
        "belopp": pa.Column(float, coerce=True),
    }, checks=_GUARDS, strict=False),
}

# What a published statistics cell can show: hidden, a count, a share as Python writes a float, or
# nothing (a share without anyone ended).
SHOWN = r"^(?:\.\.|\d+|\d+\.\d+(?:e-\d+)?|\d(?:\.\d+)?e-\d+|)$"

SCHEMAS["sus_release_cell"] = pa.DataFrameSchema({
    "period_start": pa.Column("datetime64[ns]", nullable=False, coerce=True),
    "period_end": pa.Column("datetime64[ns]", nullable=False, coerce=True),
    "scope": pa.Column(str, nullable=False, checks=pa.Check.str_length(0, 16)),
    "sheet": pa.Column(str, nullable=False, checks=pa.Check.str_length(1, 64)),
    "table_name": pa.Column(str, nullable=False, checks=pa.Check.str_length(1, 64)),
    "row_label": pa.Column(str, nullable=False, checks=pa.Check.str_length(1, 128)),
    "column_label": pa.Column(str, nullable=False, checks=pa.Check.str_length(1, 128)),
    "shown": pa.Column(str, nullable=False, checks=pa.Check.str_matches(SHOWN)),
    "value": pa.Column(float, nullable=True, coerce=True, checks=pa.Check.ge(0)),
    "min_cell": pa.Column(int, coerce=True, checks=pa.Check.ge(1)),
}, checks=[*_GUARDS,
           pa.Check(lambda frame: (frame["period_start"] <= frame["period_end"]).all(),
                    name="perioden börjar före sitt slut"),
           pa.Check(lambda frame: not frame.duplicated(
               ["period_start", "period_end", "scope", "sheet", "table_name", "row_label",
                "column_label", "shown", "value"]).any(), name="varje visat värde en gång")],
    strict=False)


def check_before_load(table: str, frame: pd.DataFrame,
                      schemas: Mapping[str, pa.DataFrameSchema] = SCHEMAS) -> None:
    """Raise WarehouseSchemaViolation (naming table and checks, never values) when ``frame`` breaks
    the table's schema. A table without a schema is refused: nothing is loaded unchecked."""
    schema = schemas.get(table)
    if schema is None:
        raise WarehouseSchemaViolation(table, ["tabellen har inget schema i validation/warehouse.py"])
    if frame.empty:
        return
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        summary = (cases.assign(column=cases["column"].fillna("(tabell)"))
                   .groupby(["column", "check"]).size())
        raise WarehouseSchemaViolation(table, [f"{column}: {check} ({count} rader)"
                                               for (column, check), count in summary.items()]) from None
