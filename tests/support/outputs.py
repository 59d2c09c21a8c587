"""Reading back what a run wrote: folder digests (to prove files unchanged) and finsam's CSVs."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path


def digests(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path) with its SHA-256."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def semicolon_rows(path: Path) -> list[dict[str, str]]:
    """A CSV finsam wrote (semicolon-separated, with header) as one dict per row."""
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))
