"""Writing output files: atomically, in the restricted folder when they hold identities or
unsuppressed counts, and as CSV that no spreadsheet program evaluates.

Every output goes through here, so a kill never leaves half a workbook (the file appears whole under
its name by one rename, or not at all), and what may not be published never lands beside what may.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

RESTRICTED = "begransad"
_DIR_MODE, _FILE_MODE = 0o700, 0o600
# OWASP CSV injection: a cell starting with one of these is a formula to Excel and LibreOffice
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def restricted(out: Path, *parts: str) -> Path:
    """``<out>/begransad/<parts...>``, folders created with mode 0700 (only the service user)."""
    folder = out / RESTRICTED
    for part in parts:
        folder = folder / part
    folder.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
    node = folder
    while node != out:
        node.chmod(_DIR_MODE)
        node = node.parent
    return folder


def is_restricted(path: Path, out: Path) -> bool:
    try:
        return path.resolve().relative_to(out.resolve()).parts[:1] == (RESTRICTED,)
    except ValueError:
        return False


@contextmanager
def atomic_path(path: Path, *, private: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` only when the block
    ends without an exception. ``private`` files get mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(_FILE_MODE if private else 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes, *, private: bool = False) -> Path:
    with atomic_path(path, private=private) as temporary:
        temporary.write_bytes(data)
    return path


def write_text(path: Path, text: str, *, private: bool = False, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding), private=private)


def write_folder(path: Path, writer: Callable[[Path], object]) -> Path:
    """``writer(folder)`` fills a new folder beside ``path``, which then takes the place of the old
    one: a reader finds the old folder or the new one, each whole, and nothing of the old one
    (earlier results included) is left behind. Leftovers of a run killed half-way are removed."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{path.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    token = secrets.token_hex(4)
    new, old = parent / f".{path.name}.ny-{token}.tmp", parent / f".{path.name}.gammal-{token}.tmp"
    new.mkdir()
    try:
        writer(new)
        if path.exists():
            os.replace(path, old)
        try:
            os.replace(new, path)
        except OSError:
            if old.exists():
                os.replace(old, path)
            raise
    finally:
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    return path


def write_with(path: Path, writer: Callable[[Path], object], *, private: bool = False) -> Path:
    """``writer(temporary_path)`` writes the file (e.g. ``workbook.save``); then it is renamed."""
    with atomic_path(path, private=private) as temporary:
        writer(temporary)
    return path


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR first) get a
    leading apostrophe, so they show as the text they are. Numbers are left as numbers."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        text = column.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
        if risky.any():
            out[name] = text.mask(risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: Path, *, private: bool = False, sep: str = ";",
              encoding: str = "utf-8") -> Path:
    """A frame as CSV (no index), formulas neutralised, written atomically."""
    text = neutralise_formulas(frame).to_csv(sep=sep, index=False)
    return write_text(path, text, private=private, encoding=encoding)


def scrub_restricted(out: Path, numbers: set[str]) -> int:
    """After an erasure: every restricted CSV written earlier loses the rows that hold one of these
    identity numbers (rewritten atomically). Returns how many files changed."""
    folder = out / RESTRICTED
    if not numbers or not folder.is_dir():
        return 0
    pattern = "|".join(sorted(numbers))
    changed = 0
    for path in folder.rglob("*.csv"):
        text = path.read_text(encoding="utf-8")
        if not any(number in text for number in numbers):
            continue
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        hit = frame.apply(lambda column: column.str.contains(pattern, regex=True)).any(axis=1)
        write_csv(frame.loc[~hit], path, private=True)
        changed += 1
    return changed
