"""Lineage: the deliveries every output was built from.

An output's lineage is the deliveries whose records it read: every row of ``spell``, ``consent``,
``ledger_entry`` and the budget tables carries its ``delivery_id``, so an output counts the rows it
selected per delivery, and per insats (the topic a sign-off's corrections narrow their causes by).
A de-identified spell points to no delivery (nothing may lead back to the landing row that held the
person's number): such spells are counted without a file.

Each output folder gets ``underlag.csv`` (Källa, Fil, Sha256, Uttagsdatum, Poster, Körning), each
workbook that can take it an "Underlag" sheet, and the asset's materialisation the same as metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, select

from sources.registry import REGISTRY
from sources.spec import Role
from warehouse import models

FILE_NAME = "underlag.csv"
COLUMNS = ("Källa", "Fil", "Sha256", "Uttagsdatum", "Poster", "Körning")
DEIDENTIFIED = "avidentifierade deltaganden (pekar inte på någon fil)"
_RECORDS = ("delivery_id", "table", "insats", "poster")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"delivery_id": pd.Series(dtype="int64"), "table": pd.Series(dtype=object),
                         "insats": pd.Series(dtype=object), "poster": pd.Series(dtype="int64")})


def records(frame: pd.DataFrame, table: str, insats: str | None = "insats") -> pd.DataFrame:
    """The rows of ``frame`` (read from ``table``) an output used, as lineage records: per
    delivery and insats (the column ``insats`` names, or none), how many rows. Rows without a
    delivery (de-identified spells) are left out: count them with :func:`without_delivery`."""
    if frame.empty or "delivery_id" not in frame:
        return _empty()
    ids = pd.to_numeric(frame["delivery_id"], errors="coerce")
    topic = (frame[insats].astype("string").fillna("") if insats is not None and insats in frame
             else pd.Series("", index=frame.index, dtype="string"))
    keep = ids.notna().to_numpy()
    counted = (pd.DataFrame({"delivery_id": ids[keep].astype("int64"), "insats": topic[keep]})
               .groupby(["delivery_id", "insats"], sort=True).size().rename("poster").reset_index())
    return _tidy(counted.assign(table=table))


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    insats = frame["insats"].astype(object)
    return frame.assign(insats=insats.where(insats != "", None))[list(_RECORDS)]


def without_delivery(frame: pd.DataFrame) -> int:
    """Rows of ``frame`` that point to no delivery (de-identified spells)."""
    if frame.empty or "delivery_id" not in frame:
        return 0
    return int(frame["delivery_id"].isna().sum())


@dataclass(frozen=True)
class Lineage:
    """What one output read: rows per delivery and insats, and rows without a delivery."""

    records: pd.DataFrame = field(default_factory=_empty)
    deidentified: int = 0

    @classmethod
    def of(cls, *frames: pd.DataFrame, deidentified: int = 0) -> Lineage:
        """Lineage from frames of :func:`records` (summed where they overlap)."""
        parts = [frame for frame in frames if not frame.empty]
        if not parts:
            return cls(deidentified=deidentified)
        joined = pd.concat(parts, ignore_index=True)
        joined["insats"] = joined["insats"].astype("string").fillna("")
        summed = (joined.groupby(["delivery_id", "table", "insats"], sort=True)["poster"].sum()
                  .reset_index())
        return cls(_tidy(summed), deidentified)

    def union(self, other: Lineage) -> Lineage:
        return Lineage.of(self.records, other.records,
                          deidentified=max(self.deidentified, other.deidentified))

    @property
    def delivery_ids(self) -> set[int]:
        return {int(value) for value in self.records["delivery_id"].unique()}


class Deliveries:
    """The manifest as outputs name deliveries: id -> source, file (as stored, masked), sha256,
    extraction date, scope. Read once per asset run."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.set_index("id", drop=False) if "id" in frame else frame

    @classmethod
    def read(cls, connection: Connection) -> Deliveries:
        table = models.Delivery.__table__
        frame = pd.read_sql(select(table.c.id, table.c.source, table.c.file_name, table.c.sha256,
                                   table.c.extraction_date, table.c.scope, table.c.outcome,
                                   table.c.processed_at), connection)
        frame["extraction_date"] = pd.to_datetime(frame["extraction_date"])
        return cls(frame)

    def of(self, ids: Iterable[int]) -> pd.DataFrame:
        wanted = [int(value) for value in ids]
        return self.frame.loc[self.frame.index.intersection(wanted)].sort_values(
            ["source", "extraction_date", "file_name"])

    def named(self, ids: Iterable[int]) -> list[str]:
        """How a person reads a delivery: ``file (källa, uttagen YYYY-MM-DD)``."""
        return [f"{row.file_name} ({row.source}, uttagen {_day(row.extraction_date)})"
                for row in self.of(ids).itertuples(index=False)]

    def table(self, lineage: Lineage, run_id: str | None) -> pd.DataFrame:
        """``underlag.csv``'s rows: each delivery with how many rows the output read from it, and
        the de-identified spells it counted without a file."""
        per_delivery = lineage.records.groupby("delivery_id")["poster"].sum()
        known = self.of(per_delivery.index)
        rows = pd.DataFrame({
            "Källa": known["source"].to_numpy(dtype=object),
            "Fil": known["file_name"].to_numpy(dtype=object),
            "Sha256": known["sha256"].to_numpy(dtype=object),
            "Uttagsdatum": [_day(value) for value in known["extraction_date"]],
            "Poster": per_delivery.reindex(known.index).to_numpy(dtype="int64"),
        })
        if lineage.deidentified:
            rows = pd.concat([rows, pd.DataFrame({
                "Källa": [_participants_source()], "Fil": [DEIDENTIFIED], "Sha256": [""],
                "Uttagsdatum": [""], "Poster": [lineage.deidentified]})], ignore_index=True)
        return rows.assign(Körning=run_id or "")[list(COLUMNS)]

    def metadata(self, lineage: Lineage) -> list[dict]:
        """The same as Dagster metadata: JSON-ready, without the run (the run is the event's)."""
        return [{"källa": row["Källa"], "fil": row["Fil"], "sha256": row["Sha256"],
                 "uttagsdatum": row["Uttagsdatum"], "poster": int(row["Poster"])}
                for row in self.table(lineage, None).to_dict("records")]


def _day(value) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _participants_source() -> str:
    return ",".join(spec.name for spec in REGISTRY.with_role(Role.PARTICIPANTS))
