"""The frames the Great Expectations suites look at, read from the warehouse."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from warehouse import models

MIN_ENROLMENTS = 20   # below this a quarter's shares are too noisy to compare

_PARTNER_DATES = {
    "fk_benefit": (models.FkBenefit, "fom"),
    "af_support": (models.AfSupport, "inskriven_fran"),
    "soc_payment": (models.SocPayment, "manad"),
    "hsf_contact": (models.HsfContact, "kontaktdatum"),
}


def _read(connection: Connection, model, *columns: str) -> pd.DataFrame:
    table = model.__table__
    return pd.read_sql(select(*[table.c[name] for name in columns]), connection)


def quality_frames(connection: Connection) -> dict[str, pd.DataFrame]:
    consents = _read(connection, models.Consent, "record_key", "pseudonym")
    vault = set(_read(connection, models.IdentityVault, "pseudonym")["pseudonym"])
    spells = _read(connection, models.Spell, "record_key", "pseudonym", "kon", "age_at_enrolment",
                   "inskrivningsdatum")
    linked = spells["pseudonym"].notna()
    frames = {
        "spell": spells.assign(in_vault=~linked | spells["pseudonym"].isin(vault)),
        "consent": consents,
        "distribution": share_changes(spells),
        "ledger_entry": _read(connection, models.LedgerEntry, "record_key", "account_class"),
    }
    counts = []
    for name, (model, date_column) in _PARTNER_DATES.items():
        frame = _read(connection, model, "record_key", "pseudonym", date_column)
        frames[name] = frame.assign(has_consent=frame["pseudonym"].isin(consents["pseudonym"]))
        counts.append(quarter_counts(frame[date_column], name))
    frames["completeness"] = pd.concat(counts, ignore_index=True)
    return frames


def quarter_counts(dates: pd.Series, partner: str) -> pd.DataFrame:
    """Rows per quarter from the partner's first to its last quarter, zeros included."""
    quarters = pd.to_datetime(dates.astype(str).str[:10].where(dates.astype(str).str.len() > 7,
                                                                 dates.astype(str) + "-01"))
    periods = quarters.dt.to_period("Q")
    if periods.dropna().empty:
        return pd.DataFrame(columns=["partner", "quarter", "rows"])
    span = pd.period_range(periods.min(), periods.max(), freq="Q")
    rows = periods.value_counts().reindex(span, fill_value=0)
    return pd.DataFrame({"partner": partner, "quarter": span.astype(str), "rows": rows.to_numpy()})


def share_changes(spells: pd.DataFrame) -> pd.DataFrame:
    """Share of women among each quarter's enrolments and its change from the quarter before."""
    quarter = pd.to_datetime(spells["inskrivningsdatum"]).dt.to_period("Q")
    table = pd.crosstab(quarter, spells["kon"])
    total = table.sum(axis=1)
    share = (table.get("K", 0) / total).where(total >= MIN_ENROLMENTS)
    change = share.diff().abs()
    return pd.DataFrame({"quarter": share.index.astype(str), "share_women": share.to_numpy(),
                         "share_change": change.to_numpy()}).dropna()
