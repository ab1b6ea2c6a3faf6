"""scripts/fault-tier: the fault tier outside pytest, both conductors side by side.

    python -m tests.fault.run [--full] [--only SUBSTRING] [--conductors a,b] [--json PATH]
                              [--markdown PATH]
Without --full (or AIOC_FAULT_FULL=1) it runs the CI scenarios."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.fault.audit import Outcome
from tests.fault.conductors import KINDS
from tests.fault.lab import Lab
from tests.fault.report import NOTES_MARK, document, table
from tests.fault.scenarios import ci_scenarios, full_scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fault-tier")
    parser.add_argument(
        "--full", action="store_true", default=bool(os.environ.get("AIOC_FAULT_FULL"))
    )
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument("--conductors", default=",".join(reversed(KINDS)))
    parser.add_argument("--json", type=Path, default=None, help="append results as JSON lines")
    parser.add_argument("--markdown", type=Path, default=None, help="write the table here")
    parser.add_argument("--keep", action="store_true", help="keep the lab's directory")
    parser.add_argument(
        "--render", type=Path, default=None, help="no runs: the --markdown page from this JSON"
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        return _render(args.render, args.markdown)
    scenarios = [
        s
        for s in (full_scenarios() if args.full else ci_scenarios())
        if args.only.lower() in s.name.lower()
    ]
    flags = " ".join(argv if argv is not None else sys.argv[1:])
    base = Path(tempfile.mkdtemp(prefix="aioc-fault-"))
    lab = Lab(base)
    results: list[tuple[str, str, str, Outcome | str]] = []
    try:
        lab.start()
        print(
            f"lab up in {base}: {json.dumps({k: round(v, 1) for k, v in lab.timings.items()})}",
            flush=True,
        )
        for scenario in scenarios:
            for kind in args.conductors.split(","):
                started = time.monotonic()
                try:
                    outcome: Outcome | str = scenario.run(lab, kind)
                except Exception as exc:  # one broken run must not hide the others
                    traceback.print_exc()
                    outcome = f"{type(exc).__name__}: {str(exc)[:200]}"
                took = time.monotonic() - started
                results.append((scenario.name, scenario.command, kind, outcome))
                shown = outcome.as_dict() if isinstance(outcome, Outcome) else outcome
                print(f"[{took:.0f} s] {kind} / {scenario.name}: {shown}", flush=True)
                if args.json is not None:
                    with args.json.open("a") as out:
                        out.write(
                            json.dumps(
                                {
                                    "scenario": scenario.name,
                                    "command": scenario.command,
                                    "conductor": kind,
                                    "seconds": round(took, 1),
                                    "outcome": shown,
                                    "lab": lab.timings,
                                    "flags": flags,
                                }
                            )
                            + "\n"
                        )
    finally:
        lab.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    if args.markdown is not None:
        _write(args.markdown, results, lab.timings, flags)
    print(table(results))
    return 0


def _write(
    path: Path,
    results: list[tuple[str, str, str, Outcome | str]],
    timings: dict[str, float],
    flags: str,
) -> None:
    """The page, keeping whatever a person wrote below NOTES_MARK in the previous one."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    page = document(results, timings, flags=f" {flags}" if flags else "", when=when)
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES_MARK) :] if NOTES_MARK in old else NOTES_MARK + "\n"
    path.write_text(page + "\n" + notes)


def _render(jsonl: Path, markdown: Path | None) -> int:
    results: list[tuple[str, str, str, Outcome | str]] = []
    timings: dict[str, float] = {}
    flags = ""
    for line in jsonl.read_text().splitlines():
        item = json.loads(line)
        shown = item["outcome"]
        outcome = (
            Outcome(**{**shown, "broker_end": tuple(shown["broker_end"])})
            if isinstance(shown, dict)
            else shown
        )
        results.append((item["scenario"], item["command"], item["conductor"], outcome))
        timings = item["lab"]
        flags = item.get("flags", "--full")  # the first saved runs did not record their flags
    if markdown is not None:
        _write(markdown, results, timings, f"{flags} (tables from --render {jsonl.name})")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
