"""What the command line checks before anything is written: every mistake a person can make with
its arguments or settings becomes one Swedish line saying what to change (exit 2), instead of a
half-done run and a traceback.

Nothing here creates a file, a folder or a database: a refused command leaves no trace.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from finsam.errors import ConfigurationError

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLE = "t.ex. sqlite:///finsam.db eller postgresql+psycopg2://finsam@dbvärd/finsam"


def absolute(path: Path | str) -> Path:
    """A path as given, made absolute against the current folder (`~` expanded): what a run
    records and what Dagster's steps see does not depend on where they happen to run."""
    return Path(os.path.abspath(Path(path).expanduser()))


def landing_zone(path: Path) -> Path:
    path = absolute(path)
    if not path.is_dir():
        what = "är ingen mapp" if path.exists() else "finns inte"
        raise ConfigurationError("--landing", f"leveranszonen {path} {what}; ange mappen som "
                                 "parterna levererar till")
    return path


def output_folder(path: Path) -> Path:
    """The output folder may not exist yet, but it must be possible to create it."""
    path = absolute(path)
    if path.exists() and not path.is_dir():
        raise ConfigurationError("--out", f"{path} är en fil; ange en mapp för utdata")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigurationError("--out", f"{path} kan inte skapas: {existing} är inte skrivbar")
    return path


def apart(landing: Path, out: Path) -> None:
    """Outputs never go into the landing zone: restricted files (identity numbers) would sit where
    partners deliver, and the next run would read finsam's own files as deliveries."""
    if out == landing or landing in out.parents:
        raise ConfigurationError("--out", f"{out} ligger i leveranszonen {landing}; ange en mapp "
                                 "för utdata utanför den")


def warehouse_url(url: str | None, *, must_exist: bool) -> str:
    """The warehouse's SQLAlchemy URL, checked and with an SQLite file made absolute.

    ``must_exist``: the command only reads or reviews a warehouse (report, failures, steward);
    one that does not exist or has no finsam tables is refused, never created."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from warehouse.db import with_installed_driver

    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt "
                                 f"FINSAM_WAREHOUSE_URL ({URL_EXAMPLE})")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("--warehouse", f"{url!r} är ingen databas-URL; skriv "
                                 f"{URL_EXAMPLE}") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigurationError("--warehouse", f"{backend} stöds inte; finsam använder SQLite "
                                 f"eller PostgreSQL ({URL_EXAMPLE})")
    parsed = with_installed_driver(parsed)
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise ConfigurationError("--warehouse", f"drivrutinen i {parsed.drivername!r} finns inte; "
                                 f"skriv {URL_EXAMPLE}") from None
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigurationError("--warehouse", "ett lager i minnet försvinner när körningen "
                                     "slutar; ange en fil, t.ex. sqlite:///finsam.db")
        database = absolute(parsed.database)
        if must_exist and not database.is_file():
            raise ConfigurationError("--warehouse", f"lagret {database} finns inte; kör "
                                     "`finsam run` eller `finsam demo` först, eller rätta sökvägen")
        if not database.parent.is_dir():
            raise ConfigurationError("--warehouse", f"mappen {database.parent} finns inte; skapa "
                                     "den eller rätta sökvägen")
        parsed = parsed.set(database=str(database))
    url = parsed.render_as_string(hide_password=False)
    if must_exist or backend != "sqlite":
        _reachable(url, must_exist)
    return url


def _reachable(url: str, must_have_schema: bool) -> None:
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError:
        raise ConfigurationError("--warehouse", "kunde inte ansluta till lagret; kontrollera "
                                 "adressen, användaren och att databasen är igång") from None
    finally:
        engine.dispose()
    if must_have_schema and not {"alembic_version", "held_row"} <= tables:
        raise ConfigurationError("--warehouse", "databasen saknar finsams tabeller; kör "
                                 "`finsam run` mot den först, eller rätta adressen")


def key_file(path: str | None, env_var: str) -> bytes:
    """A key file's bytes: set, readable, long enough, and readable by its owner only."""
    from finsam.errors import KeyFileError
    from finsam.privacy import read_key_file

    key = read_key_file(path, env_var)
    mode = Path(path).stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(env_var, path, f"kan läsas av andra än ägaren (rättigheter "
                           f"{stat.filemode(mode)}); kör chmod 600 {path}")
    return key


def keys(pseudonym_path: str | None, vault_path: str | None, url: str | None) -> None:
    """Both key files, and, when the warehouse already holds people, that they are the keys it was
    built with: the vault key opens its vault and the pseudonym key gives its pseudonyms. Checked
    before a run starts, so a wrong key never leaves a half-done run."""
    import pandas as pd
    from cryptography.fernet import Fernet, InvalidToken

    from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV, Pseudonymiser

    pseudonym_key = key_file(pseudonym_path, PSEUDONYM_KEY_ENV)
    vault_key = key_file(vault_path, VAULT_KEY_ENV)
    try:
        fernet = Fernet(vault_key)
    except ValueError:
        raise ConfigurationError(VAULT_KEY_ENV, f"{vault_path} är ingen Fernet-nyckel (32 byte, "
                                 "url-säker base64; README beskriver hur den skapas)") from None
    sample = _vault_sample(url) if url else None
    if sample is None:
        return
    pseudonym, ciphertext = sample
    try:
        number = fernet.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ConfigurationError(VAULT_KEY_ENV, f"{vault_path} öppnar inte identitetsvalvet i "
                                 "lagret; ange nyckeln som valvet skrevs med") from None
    derived = Pseudonymiser(pseudonym_key).pseudonyms(pd.Series([number]))[0]
    if derived != pseudonym:
        raise ConfigurationError(PSEUDONYM_KEY_ENV, f"{pseudonym_path} ger inte lagrets "
                                 "pseudonymer; ange nyckeln som lagret byggdes med")


def _vault_sample(url: str) -> tuple[str, str] | None:
    """One (pseudonym, ciphertext) of the warehouse's vault; None without a warehouse or a vault."""
    from sqlalchemy import create_engine, inspect, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from warehouse import models

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("identity_vault"):
                return None
            table = models.IdentityVault.__table__
            row = connection.execute(select(table.c.pseudonym, table.c.ciphertext).limit(1)).first()
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return (row.pseudonym, row.ciphertext) if row else None


def quarter_range(first: str, last: str) -> tuple[str, str]:
    """``--from``/``--to`` as partition keys, in order and not in the future."""
    from finsam.periods import quarter
    from orchestration.partitions import current_quarter, partition_key

    keys = []
    for option, value in (("--from", first), ("--to", last)):
        try:
            keys.append(partition_key(value))
        except ValueError:
            raise ConfigurationError(option, f"{value!r} är inget kvartal; skriv ÅÅÅÅKn som "
                                     "YYYYQn, t.ex. 2024Q3") from None
    start, end = keys
    if quarter(end) < quarter(start):
        raise ConfigurationError("--to", f"{end} ligger före --from {start}")
    now = current_quarter()
    for option, key in (("--from", start), ("--to", end)):
        if quarter(key) > quarter(now):
            raise ConfigurationError(option, f"{key} har inte börjat än; senaste kvartal är {now}")
    return start, end


def insats(code: str | None, url: str) -> str | None:
    """An insats code the warehouse knows (in its spells or its budget catalogue)."""
    if code is None:
        return None
    from sqlalchemy import create_engine, select, union

    from warehouse import models

    spells, catalogue = models.Spell.__table__, models.BudgetInsats.__table__
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            known = sorted({row[0] for row in connection.execute(union(
                select(spells.c.insats), select(catalogue.c.insats))) if row[0]})
    finally:
        engine.dispose()
    wanted = code.strip().upper()
    if wanted not in known:
        shown = ", ".join(known) if known else "inga än"
        raise ConfigurationError("--insats", f"{code} finns inte i lagret; kända insatser: {shown}")
    return wanted
