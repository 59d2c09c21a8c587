"""The SUS submission: who is registered in, out and anonymously for a period, and the adapter that
writes it for the target system.

Choosing the rows is target-neutral (``selection_for``); writing them is the adapter's job. The adapter is
the only code in finsam that opens the identity vault. When SUS is replaced by "Uppföljning Finsam",
a new adapter implementing :class:`SubmissionAdapter` is all that changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pandas as pd
from sqlalchemy import Connection, select

from assets.files import write_csv
from finsam.consent import ANONYMOUS, PERSONAL, sus_path
from finsam.privacy import Vault
from warehouse import models


@dataclass
class Selection:
    """Target-neutral content of a submission; persons only as pseudonyms."""

    start: date
    end: date
    enrolled: pd.DataFrame
    ended: pd.DataFrame
    anonymous: pd.DataFrame
    ended_without_identity: int


def selection_for(spells: pd.DataFrame, consents: pd.DataFrame, start: date, end: date) -> Selection:
    """Spells enrolled in the period with SUS consent go in with personal data; spells ended in the
    period whose participant was registered with personal data go out (withdrawals end with AVB and
    have lost their identity, so they are counted for manual registration instead); the rest of the
    enrolments are counted anonymously per insats, year and kön. Withdrawn participants are never
    counted as anonymous."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    path = sus_path(spells, consents)
    enrolled_in = pd.to_datetime(spells["inskrivningsdatum"]).between(first, last)
    ended_in = pd.to_datetime(spells["utskrivningsdatum"]).between(first, last)
    personal = path == PERSONAL
    withdrawn_out = ended_in & spells["withdrawn_on"].notna()
    anonymous = spells.loc[enrolled_in & (path == ANONYMOUS)]
    counts = (anonymous.assign(ar=pd.to_datetime(anonymous["inskrivningsdatum"]).dt.year)
              .groupby(["insats", "ar", "kon"]).size().rename("antal").reset_index())
    return Selection(start, end,
                     enrolled=spells.loc[enrolled_in & personal],
                     ended=spells.loc[ended_in & personal],
                     anonymous=counts,
                     ended_without_identity=int((withdrawn_out & spells["pseudonym"].isna()).sum()))


class SubmissionAdapter(Protocol):
    """Writes a selection in a target system's format; returns the files written."""

    name: str

    def write(self, selection: Selection, identities: pd.Series, folder: Path) -> list[Path]:
        ...


def _iso(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


class SusAdapter:
    """The files the deltagaransvarig registers in SUS (outputs contract)."""

    name = "SUS"

    def write(self, selection: Selection, identities: pd.Series, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        enrolled, ended = selection.enrolled, selection.ended
        files = {
            "inregistreringar.csv": pd.DataFrame({
                "Personnummer": enrolled["pseudonym"].map(identities),
                "Insats": enrolled["insats"],
                "Inskrivningsdatum": _iso(enrolled["inskrivningsdatum"]),
                "Aktualiserande part": enrolled["aktualiserande_part"],
                "Försörjning vid inskrivning": enrolled["forsorjning_in"],
                "Tid i offentlig försörjning": enrolled["tid_offentlig_forsorjning"],
                "Utbildningsnivå": enrolled["utbildningsniva"],
                "Kommun": enrolled["kommun"],
            }),
            "utregistreringar.csv": pd.DataFrame({
                "Personnummer": ended["pseudonym"].map(identities),
                "Insats": ended["insats"],
                "Inskrivningsdatum": _iso(ended["inskrivningsdatum"]),
                "Utskrivningsdatum": _iso(ended["utskrivningsdatum"]),
                "Avslutsanledning": ended["avslutsanledning"],
                "Försörjning vid utskrivning": ended["forsorjning_ut"],
            }),
            "anonyma.csv": selection.anonymous.rename(columns={
                "insats": "Insats", "ar": "År", "kon": "Kön", "antal": "Antal"}),
        }
        order = {"inregistreringar.csv": ["Insats", "Inskrivningsdatum"],
                 "utregistreringar.csv": ["Insats", "Utskrivningsdatum"],
                 "anonyma.csv": ["Insats", "År", "Kön"]}
        written = []
        for name, frame in files.items():
            path = folder / name
            write_csv(frame.sort_values(order[name], kind="stable"), path, private=True)
            written.append(path)
        return written


def identities(connection: Connection, vault: Vault, pseudonyms: pd.Series) -> pd.Series:
    """pseudonym -> real 12-digit number, decrypted from the vault, for exactly these people."""
    wanted = pseudonyms.dropna().unique().tolist()
    table = models.IdentityVault.__table__
    rows = []
    for start in range(0, len(wanted), 500):
        rows.append(pd.read_sql(select(table.c.pseudonym, table.c.ciphertext)
                                .where(table.c.pseudonym.in_(wanted[start:start + 500])), connection))
    found = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["pseudonym",
                                                                                  "ciphertext"])
    missing = set(wanted) - set(found["pseudonym"])
    if missing:
        raise LookupError(f"{len(missing)} deltagare med SUS-samtycke saknas i identitetsvalvet")
    return pd.Series(vault.decrypt(found["ciphertext"]).to_numpy(), index=found["pseudonym"])
