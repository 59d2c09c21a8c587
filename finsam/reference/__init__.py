"""Versioned reference data: the contract's code lists and Skatteverket's test numbers.

Code lists live as CSV files under ``data/v<N>/`` so that a new list version is a data change.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

CODE_LIST_VERSION = "v1"

CODE_LISTS = (
    "partner",
    "aktualiserande_part",
    "forsorjning",
    "tid_offentlig_forsorjning",
    "utbildningsniva",
    "avslutsanledning",
    "fk_forman",
    "af_stod",
    "hsf_kontakttyp",
    "kostnadsslag",
    "kostnadsslag_konton",
    "kon",
)


def _data_file(name: str):
    return resources.files(__package__).joinpath("data", name)


@lru_cache(maxsize=None)
def code_list(name: str, version: str = CODE_LIST_VERSION) -> pd.DataFrame:
    """The code list ``name`` as a frame with at least ``code`` and ``label`` (all text)."""
    if name not in CODE_LISTS:
        raise KeyError(f"unknown code list {name!r}; known: {', '.join(CODE_LISTS)}")
    with _data_file(f"{version}/{name}.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def codes(name: str, version: str = CODE_LIST_VERSION) -> frozenset[str]:
    """The set of valid codes of a code list."""
    return frozenset(code_list(name, version)["code"])


def labels(name: str, version: str = CODE_LIST_VERSION) -> dict[str, str]:
    """code -> label, for reports."""
    frame = code_list(name, version)
    return dict(zip(frame["code"], frame["label"]))


def mapping(name: str, column: str, version: str = CODE_LIST_VERSION) -> dict[str, str]:
    """code -> another column of the list (e.g. fk_forman -> forsorjning)."""
    frame = code_list(name, version)
    return dict(zip(frame["code"], frame[column]))


@lru_cache(maxsize=1)
def test_personnummer() -> tuple[str, ...]:
    """Skatteverket's published test personal identity numbers (12 digits), in file order."""
    with _data_file("testpersonnummer.csv").open(encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str)
    return tuple(frame.iloc[:, 0].str.strip())
