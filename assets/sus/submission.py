"""The SUS submission: who is registered in, out and anonymously for a period, and the adapter that
writes it for the target system.

Choosing the rows is target-neutral (``selection_for``); writing them is the adapter's job. The adapter is
the only code in finsam that opens the identity vault. When SUS is replaced by "Uppföljning Finsam",
a new adapter implementing :class:`SubmissionAdapter` is all that changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import pandas as pd
from sqlalchemy import Connection, select

from assets.files import write_csv
from finsam import participation
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
    # spells registered with personal data whose identity was erased (the participant withdrew
    # every consent) before they could be registered in or out: the deltagaransvarig does it by
    # hand from what is left (insats, days, kön, age, referring part)
    manual: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the anonymous registrations one by one (see finsam.participation.anonymous_registrations)
    anonymous_rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ended_without_identity(self) -> int:
        return len(self.manual)


def selection_for(spells: pd.DataFrame, consents: pd.DataFrame, start: date, end: date) -> Selection:
    """Who is registered how, by the one definition of anonymous (finsam.participation):

    - a spell registered with personal data goes in when enrolled in the period and out when it
      ends in it: a withdrawal ends it with AVB on the withdrawal day, and a spell enrolled and
      withdrawn in one period goes both in and out;
    - where such a spell's identity was erased it is listed for registration by hand instead;
    - anonymous spells are counted per insats, calendar year of participation and kön: in the
      period of their enrolment and again in the period of each later 1 January they are still
      in the insats. A withdrawal never turns a personal registration into an anonymous one.
    Felregistrering is registered out (it was registered in) but counts in no anonymous count."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    is_anonymous = participation.anonymous(spells, consents)
    enrolled_in = pd.to_datetime(spells["inskrivningsdatum"]).between(first, last)
    ended_in = pd.to_datetime(spells["utskrivningsdatum"]).between(first, last)
    personal = ~is_anonymous & spells["pseudonym"].notna()
    erased = ~is_anonymous & spells["pseudonym"].isna()
    registrations = participation.anonymous_registrations(spells, is_anonymous, start, end)
    return Selection(start, end,
                     enrolled=spells.loc[enrolled_in & personal],
                     ended=spells.loc[ended_in & personal],
                     anonymous=participation.anonymous_counts(registrations),
                     manual=spells.loc[(enrolled_in | ended_in) & erased],
                     anonymous_rows=registrations)


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
            "manuell_registrering.csv": manual_rows(selection.manual),
        }
        order = {"inregistreringar.csv": ["Insats", "Inskrivningsdatum"],
                 "utregistreringar.csv": ["Insats", "Utskrivningsdatum"],
                 "anonyma.csv": ["Insats", "År", "Kön"],
                 "manuell_registrering.csv": ["Insats", "Inskrivningsdatum"]}
        written = []
        for name, frame in files.items():
            path = folder / name
            write_csv(frame.sort_values(order[name], kind="stable"), path, private=True)
            written.append(path)
        return written


MANUAL_TASK = ("Identiteten är raderad (samtycket återkallat): registrera in och/eller ut för hand "
               "i SUS utifrån insatsens egna handlingar")


def manual_rows(spells: pd.DataFrame) -> pd.DataFrame:
    """What the deltagaransvarig needs to find and register a spell whose identity is erased: no
    number, the rest of what was kept."""
    return pd.DataFrame({
        "Insats": spells["insats"].to_numpy(),
        "Kön": spells["kon"].to_numpy(),
        "Ålder vid inskrivning": spells["age_at_enrolment"].to_numpy(),
        "Aktualiserande part": spells["aktualiserande_part"].to_numpy(),
        "Inskrivningsdatum": _iso(spells["inskrivningsdatum"]).to_numpy(),
        "Utskrivningsdatum": _iso(spells["utskrivningsdatum"]).to_numpy(),
        "Avslutsanledning": spells["avslutsanledning"].to_numpy(),
        "Att göra": MANUAL_TASK,
    })


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
