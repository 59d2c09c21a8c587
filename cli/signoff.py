"""`finsam signoff YYYYQn[-YYYYQn] [--note TEXT]` and `finsam signoff --list`: freeze the outputs of
a quarter, or of a range of quarters, as delivered to the board / the national system, and show
what is frozen.

A sign-off freezes the builds the last runs recorded (``assets.signoff``) whose folder covers
exactly the span given: ``2024Q4`` the quarter's own folders, ``2024Q1-2024Q4`` the årsredovisning
2024 and the year's SUS statistics and submission. Later runs leave those files alone and write
what changed since under ``<out>/rattelser/<span>/``. The heavy imports wait until the command
runs, so building the parser for any `finsam` command stays cheap.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from finsam.errors import ConfigurationError


def add_parser(commands) -> None:
    signoff = commands.add_parser(
        "signoff", help="frys ett kvartals eller en periods utdata som levererade (senare "
                        "körningar skriver rättelser)",
        description="Fryser utdata som levererats till styrelsen eller SUS. Ett kvartal (2024Q4) "
                    "fryser kvartalets egna mappar; ett intervall (2024Q1-2024Q4) fryser mapparna "
                    "som täcker just de kvartalen: årsredovisningen 2024, delårsrapporter (T1 och "
                    "H1: 2024Q1-2024Q2, T2: 2024Q1-2024Q3), SUS-statistiken och SUS-filerna för "
                    "perioden. Senare körningar skriver inte över dem; ändringarna hamnar i "
                    "rattelser/<period>/.")
    signoff.add_argument("period", nargs="?", metavar="YYYYQn[-YYYYQn]",
                         help="kvartalet eller intervallet av kvartal som ska frysas")
    signoff.add_argument("--note", default=None,
                         help="vad signeringen gäller (t.ex. styrelsens sammanträde)")
    signoff.add_argument("--list", action="store_true", help="visa det som är signerat")
    signoff.add_argument("--warehouse", default=None,
                         help="lagrets SQLAlchemy-URL (standard: $FINSAM_WAREHOUSE_URL)")
    signoff.add_argument("--out", type=Path, required=True,
                         help="utdatamappen som körningarna skrev till")


def signoff(args: argparse.Namespace) -> int:
    from assets import signoff as frozen
    from warehouse.db import make_engine, migrate

    url = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt FINSAM_WAREHOUSE_URL")
    if args.list == bool(args.period):
        raise ValueError("ange antingen ett kvartal (2024Q4), ett intervall (2024Q1-2024Q4) "
                         "eller --list")
    # a mistyped period is refused before the warehouse is touched
    span = None if args.list else frozen.Span.parse(args.period)
    engine = make_engine(url)
    migrate(engine)
    out = args.out.resolve()
    if args.list:
        signed = frozen.list_signed(engine, out)
        if not signed:
            print("Inget är signerat.")
        for entry in signed:
            print("\n".join(frozen.describe(entry, out)))
        return 0
    signed = frozen.sign_off(engine, out, span, note=args.note)
    print(f"{signed.span} signerat: {len(signed.views)} utdatamappar frysta. Senare körningar "
          f"skriver inte över dem; ändringar hamnar i "
          f"{out / frozen.CORRECTIONS / signed.span.label}.")
    for view in signed.views:
        print(f"  {view['folder']}: {len(view['files'])} filer, {view['deliveries']} leveranser")
    return 0
