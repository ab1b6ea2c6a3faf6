"""docs/reliability.md's table: per fault, nova-conductor 34.0.0 beside aioconductor."""

from __future__ import annotations

from tests.fault.audit import Outcome

# below this line docs/reliability.md is written by people and kept when the tables are redone
NOTES_MARK = "<!-- notes below are kept when scripts/fault-tier rewrites this page -->"

COLUMNS = (
    "conductor",
    "attempted",
    "answered",
    "failed",
    "timed out",
    "lost",
    "duplicated",
    "applied, unanswered",
    "recovery s",
    "longest unserved s",
    "ready while unserved s",
    "queue at end (ready/unacked)",
    "failures",
)


def row(kind: str, out: Outcome) -> str:
    failures = ", ".join(f"{cls} {n}" for cls, n in sorted(out.failures.items())) or ""
    recovery = "" if out.recovery_s is None else f"{out.recovery_s:g}"
    cells = (
        kind,
        out.attempted,
        out.answered,
        out.failed,
        out.timed_out,
        out.lost,
        out.duplicated,
        out.applied_unanswered,
        recovery,
        f"{out.longest_unserved_s:g}",
        f"{out.ready_while_unserved_s:g}" if kind == "aioconductor" else "n/a",
        f"{out.broker_end[0]}/{out.broker_end[1]}",
        failures,
    )
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(results: list[tuple[str, str, str, Outcome | str]]) -> str:
    """(scenario, command, conductor, outcome or the error that stopped the run)"""
    lines: list[str] = []
    current = None
    for scenario, command, kind, out in results:
        if scenario != current:
            current = scenario
            lines += [
                "",
                f"### {scenario}",
                "",
                f"Fault: `{command}`",
                "",
                "| " + " | ".join(COLUMNS) + " |",
                "|" + "---|" * len(COLUMNS),
            ]
        if isinstance(out, Outcome):
            lines.append(row(kind, out))
        else:
            lines.append(f"| {kind} | run failed: {out} |" + " |" * (len(COLUMNS) - 2))
    return "\n".join(lines) + "\n"


HEADER = """# Reliability under faults: aioconductor beside nova-conductor 34.0.0

Written by `scripts/fault-tier{flags}` ({when}); do not edit the tables by hand, run it again.

How it is measured (tests/fault/, issue 24): a private RabbitMQ node and a private MariaDB
started by the tier (own ports and data dirs), each behind a TCP proxy the tier controls; nova's
schema made by nova's own `nova-manage db sync`; rows seeded with nova's objects. Each fault is
run against each conductor with the same load: nova 34.0.0's own client (in nova's virtualenv)
at {rate} calls/s, Service.save, Service.get_by_compute_host, Instance.save,
Instance.get_by_uuid and InstanceAction.action_start in turn, rpc_response_timeout =
10 s, `heartbeat_timeout_threshold = 10` for both conductors, one worker each unless said.
Every write carries a unique tag (report_count, display_name, request_id) that database
triggers record once per application; the audit reads them after the run.

Columns: **attempted** calls made; **answered** ok; **failed** answered with an error (its
class under *failures*); **timed out** never answered within 10 s; **lost** answered ok but never
applied (for a backlog of casts: never applied at all); **duplicated** applied more than once;
**applied, unanswered** applied though its caller timed out or failed (at-most-once allows it);
**recovery s** from the fault to the first ok answer to a call sent after it (backlogs: start to
the last message applied); **longest unserved s** the longest stretch with a call waiting and no
ok answer; **ready while unserved s** the part of that stretch during which aioconductor's
/readyz said 200 without a break; **queue at end** the `conductor` queue's ready/unacked
messages once the conductor had {settle} s more.

The target: aioconductor loses no call that nova-conductor does not lose, never stops serving
while reporting ready, leaves 0 ready / 0 unacked, applies no write twice.

Lab set-up on this machine (2 cores), seconds: {timings}
"""


def document(
    results: list[tuple[str, str, str, Outcome | str]],
    timings: dict[str, float],
    *,
    flags: str,
    when: str,
    rate: float = 20,
    settle: float = 20,
) -> str:
    shown = ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items())
    header = HEADER.format(
        flags=flags, when=when, rate=f"{rate:g}", settle=f"{settle:g}", timings=shown
    )
    return header + table(results)
