"""The deltagaransvarig's worklist: what changed since the last submission, by section."""

from __future__ import annotations

from datetime import date

import openpyxl
import pandas as pd

from assets.sus import worklist
from finsam import participation

COLUMNS = ("record_key", "pseudonym", "deidentified_person", "insats", "kon", "age_at_enrolment",
           "anonym", "skyddad_identitet", "aktualiserande_part", "inskrivningsdatum",
           "utskrivningsdatum", "utskrivningskvartal", "avslutsanledning", "forsorjning_in",
           "forsorjning_ut", "tid_offentlig_forsorjning", "utbildningsniva", "kommun",
           "withdrawn_on")


def _spell(key, pseudonym, start, end=None, reason=None, *, anonym=False, token=None,
           forsorjning="AKS", quarter=None):
    return {"record_key": key, "pseudonym": pseudonym, "deidentified_person": token,
            "insats": "JOBB", "kon": "K", "age_at_enrolment": 30, "anonym": anonym,
            "skyddad_identitet": False, "aktualiserande_part": "AF",
            "inskrivningsdatum": pd.Timestamp(start),
            "utskrivningsdatum": pd.Timestamp(end) if end else pd.NaT,
            "utskrivningskvartal": quarter, "avslutsanledning": reason,
            "forsorjning_in": None if anonym else forsorjning,
            "forsorjning_ut": "LON" if end and not anonym else None,
            "tid_offentlig_forsorjning": None if anonym else "1",
            "utbildningsniva": None if anonym else "GY", "kommun": None if anonym else "0980",
            "withdrawn_on": pd.NaT}


def _frame(*spells) -> pd.DataFrame:
    return pd.DataFrame(list(spells), columns=list(COLUMNS))


CONSENTS = pd.DataFrame({"pseudonym": ["p1", "p2", "p3"], "insats": "JOBB",
                         "samtycke_fran": pd.Timestamp("2024-01-01"), "giltigt_till": pd.NaT,
                         "aterkallat": pd.NaT, "parter": "AF", "sus": True})
Q1 = (date(2024, 1, 1), date(2024, 3, 31))
Q2 = (date(2024, 4, 1), date(2024, 6, 30))


def test_since_the_last_submission_new_corrected_out_and_manual(tmp_path):
    at_q1 = _frame(_spell("k1", "p1", "2024-01-10"), _spell("k3", "p3", "2024-02-01"))
    submitted = worklist.state(at_q1, participation.anonymous(at_q1, CONSENTS), Q1[1])
    now = _frame(
        _spell("k1", "p1", "2024-01-10", forsorjning="AKS,FSB"),     # corrected in the register
        _spell("k2", "p2", "2024-03-15"),                            # delivered after Q1's run
        _spell("k3", "p3", "2024-02-01", "2024-05-10", "ARB"),       # ended in Q2
        _spell("d1", None, "2024-04-10", "2024-06-01", "AVB", token="t1"),   # erased
    )
    work = worklist.worklist(now, CONSENTS, *Q2, previous=submitted, since="2024Q1_2024Q1")
    sections = work.sections
    assert sections[worklist.NEW]["Inskrivningsdatum"].tolist() == ["2024-03-15"]
    assert sections[worklist.CORRECT]["Försörjning vid inskrivning"].tolist() == ["AKS,FSB"]
    assert sections[worklist.OUT][["Utskrivningsdatum", "Avslutsanledning"]].values.tolist() == [
        ["2024-05-10", "ARB"]]
    assert sections[worklist.MANUAL]["Inskrivningsdatum"].tolist() == ["2024-04-10"]
    files = worklist.write(work, worklist.state(now, participation.anonymous(now, CONSENTS),
                                                Q2[1]), tmp_path / "2024Q2_2024Q2")
    page = (tmp_path / "2024Q2_2024Q2" / worklist.HTML_FILE).read_text(encoding="utf-8")
    assert "Nya inregistreringar" in page and "Jämfört med inlämningen för 2024Q1_2024Q1" in page
    assert "p1" not in page and "k1" not in page
    book = openpyxl.load_workbook(tmp_path / "2024Q2_2024Q2" / worklist.XLSX_FILE, read_only=True)
    assert book.sheetnames[0] == "Sammanfattning" and len(book.sheetnames) == 6
    assert all(oct(path.stat().st_mode & 0o777) == "0o600" for path in files)
    # the next period compares with this one
    previous, since = worklist.previous_state(tmp_path, date(2024, 7, 1))
    assert since == "2024Q2_2024Q2" and len(previous) == 3      # p1, p2, p3; never the erased
    assert worklist.previous_state(tmp_path, date(2024, 4, 1)) == (None, None)


def test_first_worklist_lists_the_period_and_anonymous_for_the_new_year():
    spells = _frame(
        _spell("a1", None, "2023-05-01", anonym=True),                # still in the insats
        _spell("a2", None, "2023-06-01", anonym=True, quarter="2023Q4"),   # left in 2023
        _spell("k1", "p1", "2024-02-10"),
    )
    work = worklist.worklist(spells, CONSENTS, *Q1)
    assert work.sections[worklist.NEW]["Inskrivningsdatum"].tolist() == ["2024-02-10"]
    again = work.sections[worklist.AGAIN]
    assert again.values.tolist() == [["JOBB", 2024, "K", 1]]


def test_an_insats_name_is_escaped_in_the_page(tmp_path):
    spell = _spell("k1", "p1", "2024-02-10")
    spell["insats"] = "<script>alert(1)</script>"
    spells = _frame(spell)
    consents = CONSENTS.assign(insats=spell["insats"])
    work = worklist.worklist(spells, consents, *Q1)
    assert len(work.sections[worklist.NEW]) == 1
    worklist.write(work, worklist.state(spells, participation.anonymous(spells, consents), Q1[1]),
                   tmp_path)
    page = (tmp_path / worklist.HTML_FILE).read_text(encoding="utf-8")
    assert "<script" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page
