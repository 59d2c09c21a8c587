"""The Jinja2 environment that renders the steward's pages: the static ``failures.html`` and every
page of the web app (``steward_web``) come from the templates in ``assets/steward/templates``.

Everything a template prints is escaped (autoescape) and goes through :func:`guard` first: a value
that looks like an identity number is masked, whatever table or message it came from. The held
rows are masked at ingestion already; this is the last door before a page, not the first.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd
from markupsafe import Markup

from finsam.periods import TIMEZONE
from finsam.words import count, number

_LOG = logging.getLogger("finsam.steward")

# 10 or 12 digits with an optional - or + before the last four, not part of a longer digit run
IDENTITY_LIKE = re.compile(r"(?<!\d)(\d{8}|\d{6})[-+]?\d{4}(?!\d)")
_STOCKHOLM = ZoneInfo(TIMEZONE)


def mask_identity_like(text: str) -> str:
    """``text`` with every identity-number-shaped run cut to its birth-date part (``-****``)."""
    masked, count = IDENTITY_LIKE.subn(r"\1-****", text)
    if count:
        # the value itself must not reach the log either: only that it happened
        _LOG.warning("ett värde som liknar ett personnummer maskerades på en granskningssida")
    return masked


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The same masking over every text column of a frame (for the CSV files), once per
    distinct value."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        text = column.astype("string")
        distinct = text.dropna().unique()
        hits = {value: mask_identity_like(value) for value in distinct
                if len(value) >= 10 and IDENTITY_LIKE.search(value)}
        if hits:
            out[name] = text.replace(hits)
    return out


@lru_cache(maxsize=1 << 16)
def _looks_like_identity(text: str) -> bool:
    # pages repeat the same rules, expectations and values row after row: each is searched once
    return IDENTITY_LIKE.search(text) is not None


def guard(value: object) -> object:
    """Jinja's ``finalize``: every printed value passes here before it is escaped.

    Markup is what a macro or an include rendered, every value in it guarded already (no
    template marks data safe); searching it again would scan the page once per nesting level."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        if len(value) >= 10 and _looks_like_identity(value):
            return mask_identity_like(value)
        return value
    if isinstance(value, float) and pd.isna(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return value




def timestamp(value: object) -> str:
    """A stored instant as Stockholm time to the minute (``2024-11-30 14:05``); naive values are
    UTC, which is how SQLite hands back what finsam stored."""
    if value is None or value is pd.NaT or (not isinstance(value, (str, dt.datetime))
                                            and pd.isna(value)):
        return ""
    if isinstance(value, dt.datetime):
        return _stockholm(value)
    return _stockholm(pd.Timestamp(value).to_pydatetime())


@lru_cache(maxsize=4096)
def _stockholm(moment: dt.datetime) -> str:
    # the rows of one delivery share their first and last seen: each instant is converted once
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(_STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def day(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def environment(extra: Iterable[jinja2.BaseLoader] = ()) -> jinja2.Environment:
    """The steward's templates (after any ``extra`` loaders, so the web app adds its own pages),
    autoescaped, with the identity guard and the Swedish filters."""
    loader = jinja2.ChoiceLoader([*extra, jinja2.PackageLoader("assets.steward", "templates")])
    env = jinja2.Environment(loader=loader, autoescape=True, finalize=guard,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(antal=count, tal=number, tid=timestamp, dag=day)
    env.globals["now"] = lambda: dt.datetime.now(dt.timezone.utc)
    return env


@lru_cache(maxsize=1)
def static_environment() -> jinja2.Environment:
    """One environment for the static page, so its templates compile once per process."""
    return environment()
