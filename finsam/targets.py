"""The national systems finsam produces files for, and how the förbund chooses them.

SUS was closed for Finsam on 30 April 2023; Uppföljning Finsam replaced it. SUS files are still wanted
for history, so both exist, and the förbund chooses with ``FINSAM_TARGETS`` (or ``--targets``): a
comma list, default both. Parsing lives here, below everything, so the settings, the command line and
the asset graph agree on the names.
"""

from __future__ import annotations

from finsam.errors import ConfigurationError

UPPFOLJNING = "uppfoljning"
SUS = "sus"
KNOWN = (UPPFOLJNING, SUS)
DEFAULT = ",".join(KNOWN)
TARGETS_ENV = "FINSAM_TARGETS"

# What the förbund may write for each: "Uppföljning Finsam" has an ö that a shell setting may lack.
_ALIASES = {"uppföljning": UPPFOLJNING, "uppfoljning_finsam": UPPFOLJNING,
            "uppföljning_finsam": UPPFOLJNING}


def parse(text: str | None, setting: str = TARGETS_ENV) -> tuple[str, ...]:
    """``"sus, uppfoljning"`` -> ("uppfoljning", "sus") in the known order; empty or None: both.
    An unknown name is a configuration error that names the known ones."""
    if text is None or not text.strip():
        return KNOWN
    chosen = []
    for part in text.split(","):
        name = part.strip().casefold()
        if not name:
            continue
        name = _ALIASES.get(name, name)
        if name not in KNOWN:
            raise ConfigurationError(setting, f"okänt mål {part.strip()!r}; välj bland "
                                              f"{', '.join(KNOWN)} (kommaseparerade)")
        chosen.append(name)
    if not chosen:
        return KNOWN
    return tuple(name for name in KNOWN if name in chosen)
