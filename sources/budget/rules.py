"""budget: the budget workbook, one RuleSchema per sheet (Insatser, Budget, Finansiering).

Every rule names its sheet. What a Budget rule needs from beyond its row comes in through the
factory: the insatser that passed, with the quarters each is active in, and the stated sums the
TOTALT rows are compared with (``found`` sees only the failing rows, yet must show those sums).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from sources.common_rules import DATE, before, required, unreadable
from sources.spec import SourceSpec
from validation.rules import TEXT_SUFFIX, Rule, RuleSchema

TOTAL = "TOTALT"
TOLERANCE = 0.5   # kronor: Excel sums of rounded cells may differ by öre, never by a krona
INRIKTNING = ("Individinriktad", "Strukturövergripande")
INDIVIDUAL, STRUCTURAL = INRIKTNING
QUARTERS = ("q1", "q2", "q3", "q4")

_MISSING = "värde saknas"
_KOSTNADSSLAG = "kod eller benämning i listan kostnadsslag"


def insatser(sheet: str, spec: SourceSpec) -> RuleSchema:
    inriktning = " eller ".join(INRIKTNING)
    return _schema(sheet, spec, [
        required("insats", "insatskod"),
        required("namn", "insatsens namn"),
        required("startdatum", DATE),
        required("inriktning", inriktning),
        Rule("insats", "insatsen finns på flera rader", "en rad per insats",
             lambda f: f["insats"].notna() & f["insats"].duplicated(keep=False)),
        unreadable("startdatum", "ogiltigt datum", DATE),
        unreadable("slutdatum", "ogiltigt datum", DATE),
        before("slutdatum", "startdatum", "slutdatum före startdatum", "datum från och med Startdatum"),
        unreadable("inriktning", "okänd inriktning", inriktning),
        Rule("mal_deltagare", "ogiltigt antal", "antal deltagare per år, t.ex. 40",
             lambda f: _given(f, "mal_deltagare")
             & (f["mal_deltagare"].isna() | (f["mal_deltagare"] < 0))),
        Rule("mal_andel", "ogiltig andel", "andel i procent, t.ex. 55 %",
             lambda f: _given(f, "mal_andel")
             & (f["mal_andel"].isna() | (f["mal_andel"] < 0) | (f["mal_andel"] > 1))),
    ])


def lines(sheet: str, spec: SourceSpec, *, year: int, active: pd.DataFrame,
          totals: pd.DataFrame) -> RuleSchema:
    """``active``: the Insatser rows that passed (index insats), a bool column per quarter of
    ``year`` in which the insats is active. ``totals``: :func:`stated_totals` of the same frame."""
    return _schema(sheet, spec, [
        *(rule for column in (*QUARTERS, "ackumulering", "arsbudget") for rule in _amount(column)),
        required("insats", "insatskod eller TOTALT"),
        Rule("insats", "okänd insats", "en insats som finns i fliken Insatser (utan fel)",
             lambda f: _unknown_insats(f, active.index)),
        Rule("kostnadsslag", _MISSING, _KOSTNADSSLAG,
             lambda f: f["kostnadsslag_text"].isna() & ~f["is_total"]),
        Rule("kostnadsslag", "okänt kostnadsslag", _KOSTNADSSLAG + ", eller TOTALT",
             lambda f: _given(f, "kostnadsslag") & f["kostnadsslag"].isna() & ~f["is_total"]),
        Rule("kostnadsslag", "raden finns flera gånger", "en rad per insats och kostnadsslag",
             _repeated),
        Rule("ackumulering", _MISSING, "radens belopp för året",
             lambda f: f["ackumulering_text"].isna() & ~f["is_total"]),
        Rule("ackumulering", "kvartalen summerar inte till Ackumulering",
             "Ackumulering = Kvartal 1 + Kvartal 2 + Kvartal 3 + Kvartal 4", _not_adding_up,
             found=lambda f: ("kvartal summerar " + _kronor(_quarter_sum(f))
                              + ", Ackumulering " + _kronor(f["ackumulering"]))),
        Rule("ackumulering", "TOTALT stämmer inte med raderna", "TOTALT = summan av raderna",
             lambda f: _total_differs(f, totals.loc[f.index]),
             found=lambda f: ("raderna summerar " + _kronor(totals.loc[f.index, "rows_sum"])
                              + ", TOTALT " + _kronor(f["ackumulering"]))),
        Rule("insats", "kan inte fördelas på kvartal", f"en insats som är aktiv någon gång under {year}",
             lambda f: _not_active(f, active), found=lambda f: f["insats"]),
    ])


def finansiering(sheet: str, spec: SourceSpec) -> RuleSchema:
    return _schema(sheet, spec, [
        required("finansiar", "finansiär (medlem eller Eget kapital)"),
        required("belopp", "belopp i kronor"),
        *_amount("belopp"),
    ])


def stated_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of the Budget sheet: the stated Ackumulering of the cost lines it would total as a
    TOTALT row (``rows_sum``), and whether any of them is missing or unreadable (``rows_unknown``).

    Insats X / Kostnadsslag TOTALT totals X's rows; Insats TOTALT totals the whole sheet (or one
    kostnadsslag across insatser, when it names one). Stated figures are compared, so a row that
    fails its own quarter check does not also fail its total.
    """
    insats, kostnadsslag, ackumulering = frame["insats"], frame["kostnadsslag"], frame["ackumulering"]
    # Each cost line counts towards its insats, its kostnadsslag and the whole sheet.
    keys = ("insats:" + insats, "kostnadsslag:" + kostnadsslag,
            pd.Series("*", index=frame.index, dtype="string"))
    line = ~frame["is_total"]
    contributions = pd.concat([
        pd.DataFrame({"key": key, "ack": ackumulering, "unknown": ackumulering.isna()})[line]
        for key in keys
    ])
    sums = contributions.groupby("key").agg(ack=("ack", "sum"), unknown=("unknown", "any"))
    whole_sheet = (insats == TOTAL).fillna(False)
    target = keys[0].mask(whole_sheet, "*").mask(whole_sheet & kostnadsslag.notna(), keys[1])
    basis = sums.reindex(target.to_numpy()).set_axis(frame.index)
    return pd.DataFrame({
        "rows_sum": basis["ack"].astype("float64").fillna(0.0),
        "rows_unknown": basis["unknown"].fillna(False).astype(bool),
    }, index=frame.index)


def _schema(sheet: str, spec: SourceSpec, rules: list[Rule]) -> RuleSchema:
    # Row numbers repeat across sheets, so the rule names the sheet.
    return spec.rule_schema([replace(rule, rule=f"{sheet}: {rule.rule}") for rule in rules])


def _given(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column + TEXT_SUFFIX].notna()


def _amount(column: str) -> list[Rule]:
    """Amounts as numbers or text with spaces; a parenthesised amount is never guessed."""
    def unreadable_amount(f: pd.DataFrame) -> pd.Series:
        return _given(f, column) & f[column].isna()

    def parenthesised(f: pd.DataFrame) -> pd.Series:
        return f[column + TEXT_SUFFIX].str.contains(r"[()]", regex=True).fillna(False)

    return [
        Rule(column, "belopp inom parentes",
             "belopp utan parentes (en parentes är tvetydig och gissas inte)",
             lambda f: unreadable_amount(f) & parenthesised(f)),
        Rule(column, "ogiltigt belopp", "belopp i kronor, t.ex. 481 500",
             lambda f: unreadable_amount(f) & ~parenthesised(f)),
    ]


def _unknown_insats(frame: pd.DataFrame, catalogue: pd.Index) -> pd.Series:
    insats = frame["insats"]
    return insats.notna() & ~insats.isin(catalogue) & (insats != TOTAL)


def _repeated(frame: pd.DataFrame) -> pd.Series:
    """Two rows for one insats and kostnadsslag; an insats's TOTALT rows count as kostnadsslag TOTALT."""
    slag = frame["kostnadsslag"].mask(frame["is_total"] & frame["kostnadsslag"].isna(), TOTAL)
    pairs = pd.DataFrame({"insats": frame["insats"], "kostnadsslag": slag})
    return frame["insats"].notna() & slag.notna() & pairs.duplicated(keep=False)


def _quarter_sum(frame: pd.DataFrame) -> pd.Series:
    """Empty quarters count as 0."""
    return frame[list(QUARTERS)].sum(axis=1, skipna=True)


def _not_adding_up(frame: pd.DataFrame) -> pd.Series:
    """Cost lines with quarters, all readable (an unreadable one already fails), against Ackumulering."""
    unreadable_quarter = pd.concat([_given(frame, q) & frame[q].isna() for q in QUARTERS], axis=1)
    checked = ~frame["is_total"] & frame["quarterly"] & ~unreadable_quarter.any(axis=1)
    difference = (_quarter_sum(frame) - frame["ackumulering"]).abs()
    return checked & frame["ackumulering"].notna() & (difference > TOLERANCE)


def _total_differs(frame: pd.DataFrame, totals: pd.DataFrame) -> pd.Series:
    """A total over a row whose Ackumulering is missing or unreadable is not checked (that row fails)."""
    checkable = (frame["is_total"] & frame["insats"].notna() & frame["ackumulering"].notna()
                 & ~totals["rows_unknown"])
    return checkable & ((totals["rows_sum"] - frame["ackumulering"]).abs() > TOLERANCE)


def _not_active(frame: pd.DataFrame, active: pd.DataFrame) -> pd.Series:
    """Annual amounts of a known insats that is active in no quarter of the year."""
    quarters = active.reindex(frame["insats"].to_numpy(), fill_value=False).sum(axis=1).to_numpy()
    return frame["annual"] & frame["insats"].isin(active.index) & (quarters == 0)


def _kronor(values: pd.Series) -> pd.Series:
    """Amounts as the steward writes them (``481 500``, ``4 512,50``); formatted per distinct value."""
    text = {value: f"{value:,.2f}".replace(",", " ").replace(".", ",").removesuffix(",00")
            for value in values.dropna().unique()}
    return values.map(text).astype("string").fillna("(tomt)")
