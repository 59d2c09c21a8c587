"""Reconciliation conflicts: partner data that contradicts the insats register.

The register keeps its value (the SUS submission uses it); the steward sees the conflict and
decides whether the register should be corrected.
"""

from __future__ import annotations

import pandas as pd

CONFLICT_COLUMNS = ("insats", "spell_key", "file_name", "row_number", "inskrivningsdatum", "person",
                    "rule", "expected", "found")


def masked_person(birth_date: pd.Series) -> pd.Series:
    return pd.to_datetime(birth_date).dt.strftime("%Y%m%d").fillna("????????") + "-****"


def income_on_enrolment(spells: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Partner evidence of a försörjning code on the enrolment day that the register lacks.

    ``evidence``: pseudonym, partner, forsorjning, start, end (end NaT = ongoing).
    """
    linked = spells.dropna(subset=["pseudonym"])
    pairs = linked.merge(evidence.dropna(subset=["forsorjning"]), on="pseudonym")
    day = pd.to_datetime(pairs["inskrivningsdatum"])
    covers = (pairs["start"] <= day) & (pairs["end"].isna() | (pairs["end"] >= day))
    registered = (linked[["record_key"]].assign(forsorjning=linked["forsorjning_in"].fillna("")
                                                   .str.split(",")).explode("forsorjning"))
    candidates = pairs.loc[covers].drop_duplicates(["record_key", "forsorjning"])
    marked = candidates.merge(registered, on=["record_key", "forsorjning"], how="left",
                              indicator=True)
    hits = marked.loc[marked["_merge"] == "left_only"]
    return pd.DataFrame({
        "insats": hits["insats"],
        "spell_key": hits["record_key"],
        "file_name": hits["file_name"],
        "row_number": hits["row_number"],
        "inskrivningsdatum": hits["inskrivningsdatum"],
        "person": masked_person(hits["birth_date"]),
        "rule": "försörjning vid inskrivning saknar partnerns uppgift",
        "expected": hits["partner"] + " visar " + hits["forsorjning"] + " på inskrivningsdagen",
        "found": hits["forsorjning_in"].fillna("(tomt)"),
    })


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
        "person": masked_person(hits["birth_date"]),
        "rule": "uppgifter från färre än två parter",
        "expected": "uppgifter från minst två parter (målgruppen behöver samordnat stöd)",
        "found": count[count < 2].astype(str) + " parter",
    })


def partner_evidence(fk: pd.DataFrame, af: pd.DataFrame, soc: pd.DataFrame,
                     hsf: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Försörjning per person and period as the partners report it, and partners per person."""
    month = pd.to_datetime(soc["manad"] + "-01")
    evidence = pd.concat([
        pd.DataFrame({"pseudonym": fk["pseudonym"], "partner": "FK", "forsorjning": fk["forsorjning"],
                      "start": pd.to_datetime(fk["fom"]), "end": pd.to_datetime(fk["tom"])}),
        pd.DataFrame({"pseudonym": af["pseudonym"], "partner": "AF", "forsorjning": af["forsorjning"],
                      "start": pd.to_datetime(af["ersattning_fran"]),
                      "end": pd.to_datetime(af["ersattning_till"])}),
        pd.DataFrame({"pseudonym": soc["pseudonym"], "partner": "SOC", "forsorjning": "FSB",
                      "start": month, "end": month + pd.offsets.MonthEnd(0)}),
    ], ignore_index=True)
    people = pd.concat([evidence[["pseudonym", "partner"]],
                        hsf.assign(partner="HSF")[["pseudonym", "partner"]]])
    return evidence, people.drop_duplicates().groupby("pseudonym")["partner"].size()


def find_conflicts(spells: pd.DataFrame, evidence: pd.DataFrame,
                   partners_per_person: pd.Series) -> pd.DataFrame:
    frames = [income_on_enrolment(spells, evidence),
              fewer_than_two_partners(spells, partners_per_person)]
    return pd.concat(frames, ignore_index=True)[list(CONFLICT_COLUMNS)]
