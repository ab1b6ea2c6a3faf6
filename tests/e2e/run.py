"""One end-to-end run (a stack, the scenario, every check) as a report, and the command line
of scripts/e2e-tier:

    python -m tests.e2e.run [--mode legacy|alone|nova|nova-eventlet ...] [--sequential N]
                            [--parallel N] [--computes N] [--compare-notifications]
                            [--keep DIR] [--json FILE]

Exit code 0 when every run passed its checks (and the notification streams compared equal,
when asked), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e import checks, notifications
from tests.e2e.scenario import Plan, ServerRecord, boot_times, run_scenario
from tests.e2e.stack import AIOCONDUCTOR_MODES, MODES, Stack, running_stack


@dataclass
class RunReport:
    mode: str
    plan: Plan
    root: Path
    start_seconds: float = 0.0
    records: list[ServerRecord] = field(default_factory=list)
    parallel_cpu: dict[str, float] = field(default_factory=dict)  # service -> CPU seconds
    parallel_seconds: float = 0.0
    problems: dict[str, list[str]] = field(default_factory=dict)  # check -> problems
    routes: dict[str, dict[str, int]] = field(default_factory=dict)  # aioconductor's
    failures: dict[str, dict[str, int]] = field(default_factory=dict)  # aioconductor's
    notifications_dropped: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    streams: notifications.Streams = field(default_factory=dict)
    unassigned: Counter[str] = field(default_factory=Counter)

    @property
    def forwarded(self) -> dict[str, int]:
        return checks.forwarded(self.routes)

    @property
    def passed(self) -> bool:
        return not any(self.problems.values())


def run(mode: str, root: Path, plan: Plan, computes: int = 1) -> RunReport:
    report = RunReport(mode, plan, root)
    started = time.monotonic()
    with running_stack(mode, root, computes) as stack:
        report.start_seconds = time.monotonic() - started
        outcome = run_scenario(stack.api, plan, lambda: _stalled(stack), stack.cpu_seconds)
        report.records = outcome.records
        report.parallel_cpu = outcome.parallel_cpu
        report.parallel_seconds = outcome.parallel_seconds
        report.problems["servers"] = checks.server_problems(report.records)
        report.problems["allocations"] = checks.allocation_problems(stack.placement, report.records)
        report.problems["actions"] = checks.action_problems(stack.api, report.records)
        found = notifications.collect(stack.layout.amqp_url, report.records)
        notifications.save(found, root / "notifications.jsonl")
        report.streams = notifications.per_server(found, report.records)
        report.unassigned = notifications.unassigned_events(found, report.records)
        if stack.with_aioconductor:
            samples = stack.metrics()
            report.routes = checks.conductor_routes(samples)
            report.failures = checks.conductor_failures(samples)
            report.notifications_dropped = int(
                sum(v for (name, _), v in samples.items() if name.endswith("dropped_total"))
            )
        report.exit_codes = stack.stop()
        if mode == "nova-eventlet":
            report.problems["eventlet"] = checks.eventlet_problems(stack)
        report.problems["logs"] = [
            f"{name}: {line}"
            for name, lines in checks.log_problems(stack).items()
            for line in lines
        ]
    report.problems["exits"] = [f"{n} exited {c}" for n, c in report.exit_codes.items() if c]
    if mode in AIOCONDUCTOR_MODES:
        report.problems["conductor"] = _conductor_problems(report)
    return report


def _stalled(stack: Stack) -> str | None:
    """Why a boot will not finish, if aioconductor already refused a compute_task call."""
    if not stack.with_aioconductor:
        return None
    failures = checks.conductor_failures(stack.metrics())
    refused = {m: f for m, f in failures.items() if m.startswith("compute_task")}
    return f"aioconductor answered {refused} with a failure" if refused else None


def _conductor_problems(report: RunReport) -> list[str]:
    """`alone`: every call native; `legacy`: at most compute_task forwarded."""
    problems = []
    if report.notifications_dropped:
        problems.append(f"aioconductor dropped {report.notifications_dropped} notifications")
    if report.mode == "alone" and report.forwarded:
        problems.append(f"forwarded although alone: {report.forwarded}")
    if report.mode == "legacy":
        objects = {m: n for m, n in report.forwarded.items() if not m.startswith("compute_task")}
        if objects:
            problems.append(f"object calls forwarded: {objects}")
    # nova's own NotFound, which a compute's first start looks for (its node is new)
    first_start = {"ComputeHostNotFound"}
    failures = {
        method: errors for method, errors in report.failures.items() if set(errors) - first_start
    }
    if failures:
        problems.append(f"aioconductor answered with failures: {failures}")
    return problems


def compare_streams(expected: RunReport, actual: RunReport) -> notifications.Comparison:
    return notifications.compare(expected.streams, actual.streams)


def summary(report: RunReport) -> str:
    lines = [
        f"== mode {report.mode}: {'PASSED' if report.passed else 'FAILED'} "
        f"(stack up in {report.start_seconds:.0f} s; logs under {report.root})"
    ]
    for batch in ("sequential", "parallel"):
        times = boot_times(report.records, batch)
        if times:
            lines.append(
                f"   {batch}: {times['n']:.0f} booted, POST to ACTIVE median "
                f"{times['median']:.2f} s, max {times['max']:.2f} s"
            )
    if report.parallel_cpu and report.parallel_seconds:
        lines.append(f"   parallel boots' CPU over {report.parallel_seconds:.1f} s: {_cpu(report)}")
    for record in report.records:
        boot = f"{record.boot_seconds:.2f} s" if record.boot_seconds is not None else "-"
        gone = f"{record.delete_seconds:.2f} s" if record.delete_seconds is not None else "-"
        lines.append(f"   {record.name}: to ACTIVE {boot}, delete {gone}, seen {record.statuses}")
    if report.mode in AIOCONDUCTOR_MODES:
        native = sum(by.get("native", 0) for by in report.routes.values())
        lines.append(f"   conductor calls: {native} native, forwarded {report.forwarded or 'none'}")
    for check, problems in report.problems.items():
        lines.append(f"   {check}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        lines += [f"      {p}" for p in problems[:20]]
    return "\n".join(lines)


def _cpu(report: RunReport) -> str:
    """Each process's CPU seconds during the parallel batch, the busiest first, with the
    share of one core it kept busy; then the machine's idle time (all cores)."""
    spent = dict(report.parallel_cpu)
    idle = spent.pop("idle", None)
    ranked = sorted(spent.items(), key=lambda item: -item[1])
    text = ", ".join(
        f"{name} {cpu:.1f} s ({cpu / report.parallel_seconds:.0%})" for name, cpu in ranked
    )
    return text if idle is None else f"{text}; idle {idle:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/e2e-tier",
        description="Real nova-api, scheduler, placement and computes around the conductor: "
        "boot, list, reboot and delete servers, check, and print a summary per mode.",
    )
    parser.add_argument(
        "--mode",
        action="append",
        choices=MODES,
        help="repeatable, run in the order given; default: alone and nova",
    )
    parser.add_argument("--sequential", type=int, default=3, help="servers booted one by one")
    parser.add_argument("--parallel", type=int, default=10, help="servers booted at once")
    parser.add_argument("--computes", type=int, default=2, help="nova-compute services")
    parser.add_argument("--no-reboot", action="store_true", help="skip the soft reboots")
    parser.add_argument(
        "--compare-notifications",
        action="store_true",
        help="also run `nova` mode and compare each run's streams with it",
    )
    parser.add_argument("--keep", type=Path, help="a directory for the logs (kept)")
    parser.add_argument("--json", type=Path, help="write the reports here")
    args = parser.parse_args(argv)
    modes = list(dict.fromkeys(args.mode or ["alone", "nova"]))
    if args.compare_notifications and "nova" not in modes:
        modes.append("nova")
    plan = Plan(args.sequential, args.parallel, reboot=not args.no_reboot)
    base = args.keep or Path(tempfile.mkdtemp(prefix="aioc-e2e-"))
    reports = {}
    for mode in modes:
        reports[mode] = run(mode, base / mode, plan, args.computes)
        print(summary(reports[mode]), flush=True)
    failed = [mode for mode, report in reports.items() if not report.passed]
    if args.compare_notifications:
        for mode in modes:
            if mode == "nova":
                continue
            comparison = compare_streams(reports["nova"], reports[mode])
            differences, order = comparison.differences, comparison.interleaving
            verdict = "equal" if not differences else f"{len(differences)} difference(s)"
            interleaved = "alike" if not order else f"differently in {len(order)} stream(s)"
            print(f"== notifications, {mode} against nova: {verdict}; interleaved {interleaved}")
            print("\n".join(f"   {d}" for d in [*differences[:40], *order[:3]]))
            if differences:
                failed.append(f"{mode} notifications")
    if args.json:
        args.json.write_text(json.dumps({m: _as_json(r) for m, r in reports.items()}, indent=1))
    print(f"== {'FAILED: ' + ', '.join(failed) if failed else 'all passed'}")
    return 1 if failed else 0


def _as_json(report: RunReport) -> dict[str, object]:
    return {
        "mode": report.mode,
        "start_seconds": report.start_seconds,
        "parallel_seconds": report.parallel_seconds,
        "parallel_cpu_seconds": report.parallel_cpu,
        "servers": [
            {
                "name": r.name,
                "boot_seconds": r.boot_seconds,
                "delete_seconds": r.delete_seconds,
                "statuses": r.statuses,
                "problem": r.problem,
            }
            for r in report.records
        ],
        "problems": report.problems,
        "routes": report.routes,
        "failures": report.failures,
    }


if __name__ == "__main__":
    sys.exit(main())
