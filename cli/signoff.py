"""`finsam signoff YYYYQn [--note TEXT]` and `finsam signoff --list`: freeze a quarter's outputs as
delivered to the board / the national system, and show what is frozen.

A sign-off freezes the builds the last runs recorded (``assets.signoff``): later runs leave those
files alone and write what changed since under ``<out>/rattelser/<YYYYQn>/``. The heavy imports
wait until the command runs, so building the parser for any `finsam` command stays cheap.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from finsam.errors import ConfigurationError


def add_parser(commands) -> None:
    signoff = commands.add_parser(
        "signoff", help="freeze a quarter's outputs as delivered (later runs write corrections)")
    signoff.add_argument("quarter", nargs="?", metavar="YYYYQn", help="the quarter to freeze")
    signoff.add_argument("--note", default=None, help="what the sign-off is for (e.g. the board)")
    signoff.add_argument("--list", action="store_true", help="show the frozen quarters")
    signoff.add_argument("--warehouse", default=None,
                         help="SQLAlchemy URL of the warehouse (default: $FINSAM_WAREHOUSE_URL)")
    signoff.add_argument("--out", type=Path, required=True,
                         help="the outputs folder the runs wrote to")


def signoff(args: argparse.Namespace) -> int:
    from assets import signoff as frozen
    from warehouse.db import make_engine, migrate

    url = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt FINSAM_WAREHOUSE_URL")
    if args.list == bool(args.quarter):
        raise ValueError("ange antingen ett kvartal (YYYYQn) eller --list")
    engine = make_engine(url)
    migrate(engine)
    out = args.out.resolve()
    if args.list:
        signed = frozen.list_signed(engine, out)
        if not signed:
            print("Inga kvartal är signerade.")
        for quarter in signed:
            print("\n".join(frozen.describe(quarter, out)))
        return 0
    signed = frozen.sign_off(engine, out, args.quarter, note=args.note)
    print(f"{signed.quarter} signerat: {len(signed.views)} utdatamappar frysta. Senare körningar "
          f"skriver inte över dem; ändringar hamnar i {out / frozen.CORRECTIONS / signed.quarter}.")
    for view in signed.views:
        print(f"  {view['folder']}: {len(view['files'])} filer, {view['deliveries']} leveranser")
    return 0
