"""`finsam nycklar`: check the key files against a warehouse, make new ones, rotate them.

    finsam nycklar kontrollera [--warehouse URL]
    finsam nycklar skapa --katalog MAPP
    finsam nycklar byt [--warehouse URL] [--ny-pseudonymnyckel FIL] [--ny-valvnyckel FIL]
                       [--radera-ej-omnycklade]

The current keys come from FINSAM_PSEUDONYM_KEY_FILE and FINSAM_VAULT_KEY_FILE, as for every run.
A rotation holds the warehouse's run lock (no run writes meanwhile) and is one transaction; after
it, point the two variables at the new files: a run with the old ones is refused from then on.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from finsam.errors import ConfigurationError
from finsam.privacy import PSEUDONYM_KEY_ENV, VAULT_KEY_ENV, read_keys, write_new_keys


def add_parser(commands) -> None:
    keys = commands.add_parser("nycklar", help="kontrollera, skapa eller byt pseudonym- och valvnyckel")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ÅTGÄRD")
    check = actions.add_parser("kontrollera", help="stämmer nycklarna i miljön med lagrets?")
    _warehouse(check)
    make = actions.add_parser("skapa", help="skapa två nya nyckelfiler (läge 0600)")
    make.add_argument("--katalog", type=Path, required=True, metavar="MAPP",
                      help="mappen där pseudonym.key och vault.key skapas (får inte redan ha dem)")
    rotate = actions.add_parser("byt", help="nyckla om hela lagret med nya nycklar")
    _warehouse(rotate)
    rotate.add_argument("--ny-pseudonymnyckel", type=Path, metavar="FIL",
                        help="den nya pseudonymnyckeln (utan: pseudonymerna behålls)")
    rotate.add_argument("--ny-valvnyckel", type=Path, metavar="FIL",
                        help="den nya valvnyckeln (utan: valvet krypteras inte om)")
    rotate.add_argument("--radera-ej-omnycklade", action="store_true",
                        help="radera rader om personer som inte finns i identitetsvalvet (de kan "
                             "inte nycklas om); utan flaggan vägrar bytet om sådana finns")


def _warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", default=None, metavar="URL",
                        help="lagrets SQLAlchemy-URL (standard: $FINSAM_WAREHOUSE_URL)")


def _url(args: argparse.Namespace) -> str:
    url = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt FINSAM_WAREHOUSE_URL")
    return url


def run(args: argparse.Namespace) -> int:
    return {"kontrollera": _check, "skapa": _make, "byt": _rotate}[args.action](args)


def _current():
    return read_keys(os.environ.get(PSEUDONYM_KEY_ENV), os.environ.get(VAULT_KEY_ENV))


def _check(args: argparse.Namespace) -> int:
    from warehouse import key_checks
    from warehouse.db import make_engine, migrate

    keys = _current()
    engine = make_engine(_url(args))
    try:
        migrate(engine)
        with engine.connect() as connection:
            stored = key_checks.stored(connection)
            key_checks.verify_in(connection, keys)
            connection.rollback()      # a check changes nothing, not even on first use
    finally:
        engine.dispose()
    if {key_checks.PSEUDONYM, key_checks.VAULT} <= stored.keys():
        print("finsam: nycklarna stämmer med lagrets kontrollvärden.")
    else:
        print("finsam: lagret har inga kontrollvärden än; nycklarna öppnar valvet (om det har "
              "poster) och lagras vid nästa körning.")
    return 0


def _make(args: argparse.Namespace) -> int:
    folder: Path = args.katalog
    if (folder / "pseudonym.key").exists() or (folder / "vault.key").exists():
        raise ConfigurationError("--katalog", f"{folder} har redan nyckelfiler; välj en tom mapp")
    pseudonym_key, vault_key = write_new_keys(folder)
    print(f"finsam: nya nycklar i {pseudonym_key} och {vault_key} (läge 0600). Förvara dem "
          "utanför lagret och koden; byt till dem med `finsam nycklar byt`.")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from assets.keys import rotate
    from orchestration.settings import lock_wait_seconds
    from warehouse.db import make_engine, migrate
    from warehouse.lock import run_lock, shown

    if args.ny_pseudonymnyckel is None and args.ny_valvnyckel is None:
        raise ConfigurationError("finsam nycklar byt",
                                 "ange --ny-pseudonymnyckel, --ny-valvnyckel eller båda")
    old = _current()
    new = read_keys(args.ny_pseudonymnyckel or os.environ.get(PSEUDONYM_KEY_ENV),
                    args.ny_valvnyckel or os.environ.get(VAULT_KEY_ENV))
    url = _url(args)
    with run_lock(url, "finsam nycklar byt", wait_seconds=lock_wait_seconds(),
                  on_wait=lambda holder: print(f"finsam: väntar på lagret {shown(url)}, som "
                                               f"används av {holder} ...", file=sys.stderr)):
        engine = make_engine(url)
        try:
            migrate(engine)
            outcome = rotate(engine, old, new, delete_unlinkable=args.radera_ej_omnycklade)
        finally:
            engine.dispose()
    what = [name for name, changed in (("pseudonymnyckeln", outcome.pseudonym_changed),
                                       ("valvnyckeln", outcome.vault_changed)) if changed]
    print(f"finsam: {' och '.join(what)} bytt i {shown(url)}: {outcome.people} personer i valvet.")
    for name, count in outcome.rewritten.items():
        print(f"  {name}: {count} rader omnycklade")
    for name, count in outcome.deleted.items():
        print(f"  {name}: {count} rader om personer utanför valvet raderade eller avidentifierade")
    if outcome.tombstones and outcome.pseudonym_changed:
        print(f"  {outcome.tombstones} gravstenar (raderade personer) känns igen även i "
              "fortsättningen")
    print(f"Peka nu {PSEUDONYM_KEY_ENV} och {VAULT_KEY_ENV} på de nya filerna: körningar med de "
          "gamla nycklarna vägras från och med nu.")
    return 0
