"""The frames the Great Expectations suites look at, read from the warehouse."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from warehouse import models

MIN_ENROLMENTS = 20   # below this a quarter's shares are too noisy to compare

_PARTNERS = {
    "fk_benefit": models.FkBenefit,
    "af_support": models.AfSupport,
    "soc_payment": models.SocPayment,
    "hsf_contact": models.HsfContact,
}
PARTNER_SOURCES = ("fk", "af", "soc", "hsf")


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
    for name, model in _PARTNERS.items():
        frame = _read(connection, model, "record_key", "pseudonym")
        frames[name] = frame.assign(has_consent=frame["pseudonym"].isin(consents["pseudonym"]))
    manifest = _read(connection, models.Delivery, "source", "extraction_date", "rows_read", "outcome")
    frames["completeness"] = delivered_rows(manifest)
    return frames


def delivered_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """Rows each partner delivered per quarter of extraction, from the partner's first delivery to
    the last quarter anyone delivered, zeros included: a zero is a quarter the partner sent
    nothing readable (a partner that stops delivering shows up; one that joined late does not)."""
    readable = manifest.loc[manifest["source"].isin(PARTNER_SOURCES)
                            & manifest["outcome"].isin(["inläst", "ersatt"])]
    if readable.empty:
        return pd.DataFrame(columns=["partner", "quarter", "rows"])
    quarters = pd.to_datetime(readable["extraction_date"]).dt.to_period("Q")
    span = pd.period_range(quarters.min(), quarters.max(), freq="Q")
    table = (readable.assign(quarter=quarters).pivot_table(index="quarter", columns="source",
                                                           values="rows_read", aggfunc="sum")
             .reindex(index=span, columns=list(PARTNER_SOURCES)).fillna(0).astype(int))
    started = table.where(table.gt(0).cummax())
    long = started.stack().dropna().astype(int).rename("rows").reset_index()
    long.columns = ["quarter", "partner", "rows"]
    return long.assign(quarter=long["quarter"].astype(str))[["partner", "quarter", "rows"]]


def share_changes(spells: pd.DataFrame) -> pd.DataFrame:
    """Share of women among each quarter's enrolments and its change from the quarter before."""
    quarter = pd.to_datetime(spells["inskrivningsdatum"]).dt.to_period("Q")
    table = pd.crosstab(quarter, spells["kon"])
    total = table.sum(axis=1)
    share = (table.get("K", 0) / total).where(total >= MIN_ENROLMENTS)
    change = share.diff().abs()
    return pd.DataFrame({"quarter": share.index.astype(str), "share_women": share.to_numpy(),
                         "share_change": change.to_numpy()}).dropna()
