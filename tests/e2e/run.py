"""One end-to-end run (a stack, the scenario, every check) as a report, and the command line
of scripts/e2e-tier:

    python -m tests.e2e.run [--mode legacy|alone|nova|nova-eventlet ...] [--sequential N]
                            [--parallel N] [--computes N] [--cells N] [--reschedule N]
                            [--compare-notifications] [--keep DIR] [--json FILE]

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
from functools import partial
from pathlib import Path

from tests.e2e import checks, notifications, reschedule
from tests.e2e.cells import cell_problems
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
    # each aioconductor's (the superconductor's, each cell conductor's): host -> routes
    conductor_routes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    cells: int = 1
    placed: dict[str, int] = field(default_factory=dict)  # cell -> servers built there
    events: dict[str, list[dict[str, object]]] = field(default_factory=dict)  # create's
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


def run(
    mode: str,
    root: Path,
    plan: Plan,
    computes: int = 1,
    cells: int = 1,
) -> RunReport:
    """One run; `cells` real cells (a superconductor and a conductor per cell when more
    than one); with servers to reschedule, the first compute fails their first build."""
    rescheduling = plan.rescheduled > 0
    report = RunReport(mode, plan, root, cells=cells)
    started = time.monotonic()
    seen = reschedule.AtBoot()
    with running_stack(mode, root, computes, cells, rescheduling) as stack:
        report.start_seconds = time.monotonic() - started
        after_boot = partial(reschedule.look_at_boot, stack, seen=seen) if rescheduling else None
        outcome = run_scenario(
            stack.api, plan, lambda: _stalled(stack), after_boot, stack.cpu_seconds
        )
        report.records = outcome.records
        report.parallel_cpu = outcome.parallel_cpu
        report.parallel_seconds = outcome.parallel_seconds
        report.problems["servers"] = checks.server_problems(report.records)
        report.problems["allocations"] = checks.allocation_problems(stack.placement, report.records)
        events = {
            r.id: reschedule.build_events(stack.events_api, r.id)
            for r in report.records
            if r.id and r.boot_seconds is not None
        }
        report.events = events
        unfinished = reschedule.BUILD_EVENT if rescheduling else None
        report.problems["actions"] = checks.action_problems(
            stack.api, report.records, events, unfinished
        )
        report.problems["cells"] = cell_problems(stack, report.records)
        report.placed = dict(
            Counter(stack.cell_name(r.host) for r in report.records if r.host is not None)
        )
        found = notifications.collect(stack.layout.amqp_url, report.records)
        notifications.save(found, root / "notifications.jsonl")
        report.streams = notifications.per_server(found, report.records)
        report.unassigned = notifications.unassigned_events(found, report.records)
        if stack.with_aioconductor:
            report.conductor_routes = {
                host: checks.conductor_routes(samples)
                for host, samples in stack.metrics_by_conductor().items()
            }
            samples = stack.metrics()
            report.routes = checks.conductor_routes(samples)
            report.failures = checks.conductor_failures(samples)
            report.notifications_dropped = int(
                sum(v for (name, _), v in samples.items() if name.endswith("dropped_total"))
            )
        if rescheduling:
            report.problems["reschedule"] = reschedule.reschedule_problems(
                stack, report.records, events, seen, report.routes
            )
        report.exit_codes = stack.stop()
        expected = reschedule.EXPECTED_ERRORS if rescheduling else ()
        if mode == "nova-eventlet":
            report.problems["eventlet"] = checks.eventlet_problems(stack)
        report.problems["logs"] = [
            f"{name}: {line}"
            for name, lines in checks.log_problems(stack, expected).items()
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
    if report.cells > 1:
        lines.append(f"   {report.cells} cells; servers built per cell: {report.placed}")
    for batch in ("sequential", "rescheduled", "parallel"):
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
        lines.append(
            f"   {record.name}: to ACTIVE {boot} on {record.host}, delete {gone}, "
            f"seen {record.statuses}"
        )
    if report.mode in AIOCONDUCTOR_MODES:
        native = sum(by.get("native", 0) for by in report.routes.values())
        lines.append(f"   conductor calls: {native} native, forwarded {report.forwarded or 'none'}")
        for host, routes in report.conductor_routes.items():
            calls = sum(sum(by.values()) for by in routes.values())
            tasks = {m: by for m, by in routes.items() if m.startswith("compute_task")}
            lines.append(f"      {host}: {calls} calls; compute_task {tasks or 'none'}")
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
    parser.add_argument(
        "--cells",
        type=int,
        default=1,
        help="real cells, each with its database, vhost and conductor (computes dealt in turn)",
    )
    parser.add_argument(
        "--reschedule",
        type=int,
        default=0,
        metavar="N",
        help="N more servers, one by one, whose first build fails on the first compute",
    )
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
    plan = Plan(
        args.sequential, args.parallel, reboot=not args.no_reboot, rescheduled=args.reschedule
    )
    base = args.keep or Path(tempfile.mkdtemp(prefix="aioc-e2e-"))
    reports = {}
    for mode in modes:
        reports[mode] = run(mode, base / mode, plan, args.computes, args.cells)
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
                "host": r.host,
                "problem": r.problem,
            }
            for r in report.records
        ],
        "problems": report.problems,
        "routes": report.routes,
        "conductor_routes": report.conductor_routes,
        "placed": report.placed,
        "create_events": report.events,
        "failures": report.failures,
    }


if __name__ == "__main__":
    sys.exit(main())
