"""Reconciliation conflicts: partner data that contradicts the insats register.

The register keeps its value (the SUS submission uses it); the steward sees the conflict and
decides whether the register should be corrected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONFLICT_COLUMNS = ("insats", "spell_key", "file_name", "row_number", "inskrivningsdatum", "person",
                    "rule", "expected", "found")


def masked_person(kon: pd.Series, age: pd.Series) -> pd.Series:
    """The person as the steward sees them beside the register row: kön and age at enrolment
    (the warehouse keeps no birth date; file and row say where the register has them)."""
    years = age.astype("Int64").astype("string").fillna("?")
    return kon.fillna("?").astype("string") + ", " + years + " år vid inskrivningen"


def income_on_enrolment(spells: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Partner evidence of a försörjning code on the enrolment day that the register lacks.

    ``evidence``: pseudonym, partner, forsorjning, start, end (end NaT = ongoing).
    """
    linked = spells.dropna(subset=["pseudonym"])
    known = evidence.dropna(subset=["forsorjning"])
    key = pd.factorize(linked["record_key"])[0]
    code, codes = pd.factorize(known["forsorjning"])
    # Spells × evidence is many rows: pair numbers only (places, the spell's key and the code
    # numbered) and fetch the text for the hits alone.
    pairs = pd.DataFrame({"spell": np.arange(len(linked)), "pseudonym": linked["pseudonym"].array}
                         ).merge(pd.DataFrame({"pseudonym": known["pseudonym"].array,
                                               "row": np.arange(len(known))}), on="pseudonym")
    spell, row = pairs["spell"].to_numpy(), pairs["row"].to_numpy()
    day = pd.to_datetime(linked["inskrivningsdatum"]).to_numpy()[spell]
    start, end = known["start"].to_numpy()[row], known["end"].to_numpy()[row]
    covers = (start <= day) & (np.isnat(end) | (end >= day))
    candidates = pd.DataFrame({"spell": spell[covers], "row": row[covers], "key": key[spell[covers]],
                               "code": code[row[covers]]}).drop_duplicates(["key", "code"])
    marked = candidates.merge(_registered(linked, key, codes), on=["key", "code"], how="left",
                              indicator=True)
    found = marked.loc[marked["_merge"] == "left_only"]
    hits = linked.iloc[found["spell"].to_numpy()].set_axis(found.index)
    shown = known.iloc[found["row"].to_numpy()].set_axis(found.index)
    return pd.DataFrame({
        "insats": hits["insats"],
        "spell_key": hits["record_key"],
        "file_name": hits["file_name"],
        "row_number": hits["row_number"],
        "inskrivningsdatum": hits["inskrivningsdatum"],
        "person": masked_person(hits["kon"], hits["age_at_enrolment"]),
        "rule": "försörjning vid inskrivning saknar partnerns uppgift",
        "expected": shown["partner"] + " visar " + shown["forsorjning"] + " på inskrivningsdagen",
        "found": hits["forsorjning_in"].fillna("(tomt)"),
    })


def _registered(linked: pd.DataFrame, key: np.ndarray, codes: pd.Index) -> pd.DataFrame:
    """key, code: each försörjning code the register holds for a spell, numbered as ``key``
    numbers the spells and ``codes`` the codes (-1: a code no evidence has)."""
    # Few distinct code combinations occur, so each is split once, not once per spell.
    number, combinations = pd.factorize(linked["forsorjning_in"].fillna(""))
    listed = pd.Series(combinations).str.split(",").explode()
    listed = pd.DataFrame({"number": listed.index, "code": codes.get_indexer(listed)})
    spells = pd.DataFrame({"key": key, "number": number})
    return spells.merge(listed, on="number")[["key", "code"]]


def fewer_than_two_partners(spells: pd.DataFrame, partners_per_person: pd.Series) -> pd.DataFrame:
    """The target group needs support from at least two partners; fewer is worth a look."""
    linked = spells.dropna(subset=["pseudonym"])
    count = linked["pseudonym"].map(partners_per_person).fillna(0).astype(int)
    hits = linked.loc[count < 2]
    return pd.DataFrame({
        "insats": hits["insats"],
        "spell_key": hits["record_key"],
        "file_name": hits["file_name"],
        "row_number": hits["row_number"],
        "inskrivningsdatum": hits["inskrivningsdatum"],
        "person": masked_person(hits["kon"], hits["age_at_enrolment"]),
        "rule": "uppgifter från färre än två parter",
        "expected": "uppgifter från minst två parter (målgruppen behöver samordnat stöd)",
        "found": count[count < 2].astype(str) + " parter",
    })


def partner_evidence(fk: pd.DataFrame, af: pd.DataFrame, soc: pd.DataFrame,
                     hsf: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Försörjning per person and period as the partners report it, and partners per person."""
    month = pd.to_datetime(soc["manad"], format="%Y-%m")
    evidence = pd.concat([
        pd.DataFrame({"pseudonym": fk["pseudonym"], "partner": "FK", "forsorjning": fk["forsorjning"],
                      "start": pd.to_datetime(fk["fom"]), "end": pd.to_datetime(fk["tom"])}),
        pd.DataFrame({"pseudonym": af["pseudonym"], "partner": "AF", "forsorjning": af["forsorjning"],
                      "start": pd.to_datetime(af["ersattning_fran"]),
                      "end": pd.to_datetime(af["ersattning_till"])}),
        pd.DataFrame({"pseudonym": soc["pseudonym"], "partner": "SOC", "forsorjning": "FSB",
                      "start": month, "end": month + pd.offsets.MonthEnd(0)}),
    ], ignore_index=True)
    # each partner's people once, so the count need not deduplicate every evidence row
    people = pd.concat([pd.DataFrame({"pseudonym": frame["pseudonym"].drop_duplicates(),
                                      "partner": partner})
                        for partner, frame in (("FK", fk), ("AF", af), ("SOC", soc), ("HSF", hsf))])
    return evidence, people.groupby("pseudonym")["partner"].size()


def find_conflicts(spells: pd.DataFrame, evidence: pd.DataFrame,
                   partners_per_person: pd.Series) -> pd.DataFrame:
    frames = [income_on_enrolment(spells, evidence),
              fewer_than_two_partners(spells, partners_per_person)]
    return pd.concat(frames, ignore_index=True)[list(CONFLICT_COLUMNS)]
