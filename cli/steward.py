"""The steward's commands: `finsam failures list / show / accept / reopen` (the review from a
terminal) and `finsam steward serve / user ...` (the web app and who may use it).

The heavy imports (pandas, the warehouse, the web app) wait until a command runs, so building the
parser for any `finsam` command stays cheap.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

_LIST_COLUMNS = {"id": "ID", "source": "Källa", "file_name": "Fil", "row_number": "Rad",
                 "column": "Kolumn", "rule": "Regel", "severity": "Allvarlighet", "status": "Status"}


def run(args: argparse.Namespace, url: str) -> int:
    from assets.steward import review
    from warehouse import quarantine
    from warehouse.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        if args.action == "list":
            return _list(connection, args)
        if args.action == "show":
            return _show(connection, args.id)
        if args.action == "accept":
            quarantine.accept(connection, args.id, args.note)
            print(f"Rad {args.id} godkänd. Den läses in vid nästa körning.")
            return 0
        review.reopen(connection, args.id, args.note, None)
        print(f"Rad {args.id} är öppen igen och hålls kvar.")
        return 0


def _list(connection, args: argparse.Namespace) -> int:
    from assets.steward import page as steward
    from warehouse import quarantine

    statuses = ((quarantine.OPEN, quarantine.ACCEPTED, quarantine.CLOSED) if args.all
                else (quarantine.OPEN, quarantine.ACCEPTED))
    held = steward.held_rows(connection, statuses)
    if args.source:
        held = held.loc[held["source"] == args.source]
    if held.empty:
        print("Inga kvarhållna rader.")
        return 0
    shown = held[list(_LIST_COLUMNS)].rename(columns=_LIST_COLUMNS)
    print(shown.to_string(index=False))
    print(f"\n{len(held)} rader ({(held['status'] == quarantine.OPEN).sum()} öppna).")
    return 0


def _show(connection, held_id: int) -> int:
    import pandas as pd
    from sqlalchemy import select

    from warehouse import models

    table = models.HeldRow.__table__
    row = connection.execute(select(table).where(table.c.id == held_id)).mappings().first()
    if row is None:
        raise ValueError(f"det finns ingen kvarhållen rad med nummer {held_id}")
    labels = {"source": "Källa", "file_name": "Fil", "row_number": "Rad", "column": "Kolumn",
              "rule": "Regel", "severity": "Allvarlighet", "expected": "Förväntat",
              "found": "Hittat", "status": "Status", "note": "Anteckning",
              "first_seen": "Först sedd", "last_seen": "Senast sedd"}
    print(f"Kvarhållen rad {held_id}")
    for key, label in labels.items():
        print(f"  {label + ':':14} {'' if row[key] is None else row[key]}")
    decisions = pd.read_sql(select(models.StewardDecision.__table__)
                            .where(models.StewardDecision.held_row_id == held_id)
                            .order_by(models.StewardDecision.decided_at), connection)
    if not decisions.empty:
        print("  Beslut:")
        for line in (decisions["decided_at"].astype(str) + "  " + decisions["decision"] + " av "
                     + decisions["decided_by"] + ": " + decisions["note"].fillna("")):
            print(f"    {line}")
    return 0


# -- finsam steward ---------------------------------------------------------------------------

ROLES = ("granskare", "dataansvarig")


def add_parser(commands) -> None:
    """`finsam steward ...` under the main parser's sub-commands."""
    steward = commands.add_parser(
        "steward", help="förvaltarens webbapp för granskningen, och vem som får använda den",
        description="Förvaltarens webbapp: granska, godkänn och öppna kvarhållna rader i "
                    "webbläsaren, bakom en inloggning.")
    steward.add_argument("--warehouse", default=None, metavar="URL",
                         help="lagrets SQLAlchemy-URL (standard: $FINSAM_WAREHOUSE_URL)")
    actions = steward.add_subparsers(dest="steward_action", required=True, metavar="KOMMANDO")
    serve = actions.add_parser("serve", help="starta webbappen",
                               description="Starta webbappen. Den lyssnar bara på 127.0.0.1 om "
                                           "inget annat anges.")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADRESS",
                       help="adress att lyssna på (standard 127.0.0.1, bara den här datorn)")
    serve.add_argument("--port", type=int, default=8765, help="port (standard 8765)")
    serve.add_argument("--out", type=Path, default=None, metavar="MAPP",
                       help="utdatamappen, för länkar till styrelsens filer och "
                            "Great Expectations-översikten (standard: $FINSAM_OUT)")
    user = actions.add_parser("user", help="lägg till, ta bort och byt lösenord för användare",
                              description="Användare av webbappen. Lösenord läses från "
                                          "terminalen, eller från standard in om den inte är en "
                                          "terminal.")
    users = user.add_subparsers(dest="user_action", required=True, metavar="KOMMANDO")
    add = users.add_parser("add", help="lägg till en användare")
    add.add_argument("name", metavar="NAMN", help="användarnamnet")
    add.add_argument("--roll", dest="role", required=True, choices=ROLES,
                     help="granskare (läsa) eller dataansvarig (läsa, godkänna, öppna igen)")
    add.add_argument("--utan-losenord", dest="no_password", action="store_true",
                     help="inget eget lösenord: användaren loggar bara in via den omvända "
                          "proxyn (FINSAM_STEWARD_PROXY_HEADER)")
    users.add_parser("remove", help="ta bort en användare och avsluta användarens inloggningar"
                     ).add_argument("name", metavar="NAMN")
    users.add_parser("passwd", help="byt lösenord (användarens inloggningar avslutas)"
                     ).add_argument("name", metavar="NAMN")
    role = users.add_parser("role", help="byt roll")
    role.add_argument("name", metavar="NAMN")
    role.add_argument("role", metavar="ROLL", choices=ROLES)
    users.add_parser("list", help="visa användarna och deras roller")


def steward(args: argparse.Namespace) -> int:
    from finsam.errors import ConfigurationError

    url = args.warehouse or os.environ.get("FINSAM_WAREHOUSE_URL")
    if not url:
        raise ConfigurationError("--warehouse", "ange lagrets URL eller sätt FINSAM_WAREHOUSE_URL")
    engine = open_existing(url)
    if args.steward_action == "serve":
        return _serve(args, url, engine)
    return _user(args, engine)


def open_existing(url: str):
    """An engine on a finsam warehouse that exists and has finsam's schema, brought up to date;
    refuses (exit 2) rather than create an empty one."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, OperationalError

    from finsam.errors import ConfigurationError, WarehouseError
    from warehouse.db import make_engine, migrate

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("--warehouse", "lagrets adress är ingen SQLAlchemy-URL "
                                                "(t.ex. sqlite:///finsam.db)") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise ConfigurationError("--warehouse", f"lagret {database or '(i minnet)'} finns "
                                     "inte; kör `finsam run` eller `finsam demo` först")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except OperationalError:
        raise WarehouseError("kunde inte ansluta till lagret; kontrollera adressen och att "
                             "databasen är igång") from None
    if not {"alembic_version", "held_row"} <= tables:
        raise ConfigurationError("--warehouse", "databasen saknar finsams tabeller; kör "
                                 "`finsam run` mot den först")
    migrate(engine)
    return engine


def _password(prompt: str = "Lösenord") -> str:
    """From the terminal (asked twice), or the first line of standard input for scripts."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} igen: ") != first:
        raise ValueError("lösenorden var inte lika")
    return first


def _user(args: argparse.Namespace, engine) -> int:
    from steward_web import auth

    try:
        with engine.begin() as connection:
            if args.user_action == "add":
                password = None if args.no_password else _password()
                auth.add_user(connection, args.name, args.role, password)
                how = ("loggar in via proxyn" if password is None else "kan logga in med lösenord")
                print(f"Användaren {args.name} ({args.role}) är tillagd och {how}.")
            elif args.user_action == "remove":
                auth.remove_user(connection, args.name)
                print(f"Användaren {args.name} är borttagen; användarens beslut finns kvar i historiken.")
            elif args.user_action == "passwd":
                auth.set_password(connection, args.name, _password("Nytt lösenord"))
                print(f"Lösenordet för {args.name} är bytt; användarens inloggningar är avslutade.")
            elif args.user_action == "role":
                auth.set_role(connection, args.name, args.role)
                print(f"{args.name} är nu {args.role}.")
            else:
                listed = auth.users(connection)
                if not listed:
                    print("Inga användare än: lägg till en med "
                          "`finsam steward user add NAMN --roll dataansvarig`.")
                for user in listed:
                    way = "lösenord" if user["has_password"] else "bara via proxyn"
                    print(f"{user['name']:24} {user['role']:14} {way}")
    except auth.AuthError as exc:
        raise ValueError(str(exc)) from None
    return 0


def _serve(args: argparse.Namespace, url: str, engine) -> int:
    import logging

    import uvicorn

    from steward_web import auth
    from steward_web.app import create_app
    from steward_web.settings import from_environment

    out = args.out or (Path(os.environ["FINSAM_OUT"]) if os.environ.get("FINSAM_OUT") else None)
    settings = from_environment(url, out)
    if not 0 < args.port < 65536:
        raise ValueError("--port måste vara mellan 1 och 65535")
    with engine.connect() as connection:
        has_users = bool(auth.users(connection))
    if not has_users and not settings.proxy_header:
        print("finsam: det finns inga användare än; lägg till en med "
              "`finsam steward user add NAMN --roll dataansvarig`", file=sys.stderr)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print(f"finsam: webbappen lyssnar på {args.host}, inte bara på den här datorn; ställ en "
              "omvänd proxy med https framför den", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Granskningen: http://{shown}:{args.port}/  (avsluta med Ctrl+C)", flush=True)
    # no access log of uvicorn's own: it would write query strings; the app logs path and user
    uvicorn.run(create_app(settings, engine), host=args.host, port=args.port, access_log=False,
                proxy_headers=False, server_header=False, log_level="info")
    return 0
