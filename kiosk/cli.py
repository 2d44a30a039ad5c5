"""The ``kiosk`` command: a thin shell over the core. It parses, reads and prints;
every clinical decision is made in kiosk.rules and kiosk.dialog."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from kiosk import catalogue
from kiosk.chat import chat_json, chat_text
from kiosk.dialog import Dialog
from kiosk.rules import decide
from kiosk.symptoms import SymptomReport
from kiosk.understanding import Understander


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Back pain triage kiosk.")
    p.add_argument("--language", default="en", help="prompt catalogue (prompts/<language>)")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the kiosk by typing")
    chat.add_argument("--json", action="store_true", help="JSON-lines protocol on stdout")
    chat.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the session's date (YYYY-MM-DD), for 'since Monday'",
    )

    triage = sub.add_parser("triage", help="decide on a symptom report (JSON)")
    triage.add_argument("file", nargs="?", default="-", help="report file, or - for stdin")

    sub.add_parser("schema", help="print the symptom report's JSON Schema")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cat = catalogue.load(args.language)
    if args.command == "schema":
        print(json.dumps(SymptomReport.model_json_schema(), indent=2))
        return 0
    if args.command == "triage":
        try:
            raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text("utf-8")
        except OSError as err:
            print(f"kiosk triage: cannot read {args.file}: {err.strerror}", file=sys.stderr)
            return 2
        try:
            report = SymptomReport.model_validate_json(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(report)"
            print(f"kiosk triage: invalid report at {where}: {first['msg']}", file=sys.stderr)
            return 2
        print(decide(report, cat).model_dump_json(indent=2))
        return 0
    if args.command == "chat":
        dialog = Dialog(cat, Understander(cat), args.today or date.today())
        run = chat_json if args.json else chat_text
        return run(dialog, sys.stdin, sys.stdout)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
