"""`python -m aioconductor.novaenv install | prepare-database --name NAME`."""

from __future__ import annotations

import argparse
import sys

from aioconductor.novaenv import ensure_nova_venv, prepare_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aioconductor.novaenv")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="create the nova 34.0.0 virtualenv if missing")
    prepare = sub.add_parser("prepare-database", help="create + nova-manage db sync if needed")
    prepare.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    venv = ensure_nova_venv()
    if args.command == "prepare-database":
        built = prepare_database(args.name, venv)
        print(
            f"database {args.name}: {'created with nova-manage db sync' if built else 'ready'}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
