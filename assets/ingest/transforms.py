"""Pure DataFrame -> DataFrame steps between a reader's conformed frame and the warehouse."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from finsam.identity import RESERVNUMMER
from finsam.privacy import Pseudonymiser, Vault
from sources.base import Delivery
from sources.spec import CatalogueCheck, Role, SourceSpec
from warehouse.load import record_keys, versions

#: how a de-identified spell's record key starts (it has no person in it)
DEIDENTIFIED_KEY_PREFIX = "avidentifierad|"
#: columns that exist only in memory and never reach a table
TRANSIENT = ("pnr", "id_kind")
#: the person's erasure tombstone, beside the pseudonym while a batch is checked, never stored
TOMBSTONE = "_tombstone"


def pseudonymise(frame: pd.DataFrame, pseudonymiser: Pseudonymiser) -> pd.DataFrame:
    """Replace the identity number by its pseudonym (computed once per distinct person), with the
    person's tombstone beside it while the batch is checked against erasures."""
    if "pnr" not in frame:
        return frame
    pseudonyms, tombstones = pseudonymiser.pseudonyms_and_tombstones(frame["pnr"])
    out = frame.assign(pseudonym=pseudonyms, **{TOMBSTONE: tombstones})
    return out.drop(columns=[name for name in TRANSIENT if name in out])


def vault_entries(frame: pd.DataFrame, pseudonymiser: Pseudonymiser, vault: Vault, *,
                  skip: Collection[str] = (), only: Collection[str] | None = None) -> pd.DataFrame:
    """pseudonym + encrypted number for every distinct person in ``frame`` with a number, except
    the pseudonyms in ``skip`` (already in the vault), and only those in ``only`` when given;
    only these are encrypted."""
    people = frame.loc[frame["pnr"].notna(), ["pnr"]].drop_duplicates()
    people["pseudonym"] = pseudonymiser.pseudonyms(people["pnr"])
    people = people.loc[~people["pseudonym"].isin(skip)]
    if only is not None:
        people = people.loc[people["pseudonym"].isin(only)]
    people["ciphertext"] = vault.encrypt(people["pnr"])
    return people[["pseudonym", "ciphertext"]].reset_index(drop=True)


def reservnummer_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows with a regional reservnummer: they cannot be linked to anyone and are not stored."""
    if "id_kind" not in frame:
        return pd.Series(False, index=frame.index)
    return (frame["id_kind"] == RESERVNUMMER).fillna(False).astype(bool)


def with_lineage(frame: pd.DataFrame, delivery: Delivery, delivery_id: int) -> pd.DataFrame:
    """Where each row came from, and its version (extraction date, file, row): the newest version
    of a record wins, whatever order deliveries arrive in."""
    return lineage(frame, pd.Timestamp(delivery.extraction_date), delivery.file_name, delivery_id)


def lineage(frame: pd.DataFrame, extraction_date, file_name, delivery_id) -> pd.DataFrame:
    """``with_lineage`` for rows of one delivery (scalars) or of several (one value per row)."""
    extracted = pd.Series(extraction_date, index=frame.index)
    named = pd.Series(file_name, index=frame.index, dtype="string")
    rows = frame["row_number"] if "row_number" in frame else pd.Series(0, index=frame.index)
    return frame.assign(delivery_id=delivery_id, extraction_date=extracted, file_name=named,
                        version=versions(extracted, named, rows))


def with_record_key(frame: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    """Attach ``record_key`` (the declared key). Anonymous spells have no person: they are told
    apart by kön, date and their order among equals, which is stable between snapshots of the same
    register."""
    key = record_keys(frame, spec.record_key)
    if spec.role == Role.PARTICIPANTS and "pseudonym" in frame:
        anonymous = frame["pseudonym"].isna()
        if anonymous.any():
            anon = frame.loc[anonymous]
            ordinal = anon.groupby(["insats", "kon", "inskrivningsdatum"]).cumcount().astype("string")
            anon_key = (record_keys(anon, ("insats", "kon", "inskrivningsdatum"))
                        .radd("anonym|").str.cat(ordinal, sep="|"))
            key = key.where(~anonymous, anon_key)
    return frame.assign(record_key=key)


def with_age_at_enrolment(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole years on the enrolment day (kept when the birth date is erased after a withdrawal)."""
    birth = pd.to_datetime(frame["birth_date"])
    enrolled = pd.to_datetime(frame["inskrivningsdatum"])
    had_birthday = (enrolled.dt.month > birth.dt.month) | (
        (enrolled.dt.month == birth.dt.month) & (enrolled.dt.day >= birth.dt.day))
    age = enrolled.dt.year - birth.dt.year - (~had_birthday).astype(int)
    return frame.assign(age_at_enrolment=age.where(birth.notna()).astype("Int64"))


def vanished(previous_keys: pd.Series, current_keys: pd.Series) -> int:
    """How many records of the previous snapshot are missing from the current one (records kept
    de-identified after a withdrawal are no longer the snapshot's and do not count)."""
    previous = previous_keys[~previous_keys.str.startswith(DEIDENTIFIED_KEY_PREFIX)]
    return int((~previous.isin(current_keys)).sum())


def unknown_in_catalogue(frame: pd.DataFrame, check: CatalogueCheck,
                         catalogue: pd.DataFrame) -> pd.Series:
    """Codes missing from the budget workbook's Insatser sheet of the row's year. A year with no
    budget loaded yet is judged by every year's catalogue, so an early spell is not held forever."""
    codes = frame[check.code_column].astype("string").str.upper()
    years = pd.to_datetime(frame[check.date_column]).dt.year
    pairs = pd.MultiIndex.from_arrays([years, codes])
    listed = pd.MultiIndex.from_arrays([catalogue["year"].astype(int), catalogue["insats"].str.upper()])
    in_year = pd.Series(pairs.isin(listed), index=frame.index)
    any_year = codes.isin(catalogue["insats"].str.upper()) & ~years.isin(catalogue["year"].astype(int))
    known = in_year | any_year.fillna(False) | codes.isin(check.always_known).fillna(False)
    return ~known.astype(bool)
