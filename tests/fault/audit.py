"""What happened to every call of a run, read from nova's client records and the database.

A write call is LOST when nova's client got an ok answer but the database has no trace of
it, DUPLICATED when the database has it twice, APPLIED-BUT-UNANSWERED when it is there but
the caller timed out or failed (at-most-once allows it; it is reported, not forbidden)."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.fault.lab import HEARTBEAT_THRESHOLD, Run

WRITES = ("service_save", "instance_save", "action_start")


@dataclass
class Outcome:
    attempted: int = 0
    answered: int = 0
    failed: int = 0
    timed_out: int = 0
    lost: int = 0
    duplicated: int = 0
    applied_unanswered: int = 0
    recovery_s: float | None = None  # first fault to the first ok answer of a call sent after it
    longest_unserved_s: float = 0.0  # longest stretch with calls waiting and no ok answer
    failures: dict[str, int] = field(default_factory=dict)  # remote class -> count
    broker_end: tuple[int, int] = (0, 0)  # conductor queue: ready, unacked
    ready_while_unserved_s: float = 0.0  # of longest_unserved_s, /readyz said 200 throughout
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def applied_counts(run: Run) -> Counter[str]:
    """tag -> how many times the database applied it (this run's tags only)."""
    lab = run.lab
    counts: Counter[str] = Counter()
    rows = lab.mariadb.sql(
        "SELECT tag, COUNT(*) FROM fault_audit WHERE "
        f"(kind = 'instance' AND tag LIKE '{run.prefix}-%') OR (kind = 'service' AND "
        f"CAST(tag AS UNSIGNED) BETWEEN {run.number_base} AND {run.number_base + 99_999}) "
        "GROUP BY tag",
        lab.database,
    )
    rows += lab.mariadb.sql(
        "SELECT request_id, COUNT(*) FROM instance_actions "
        f"WHERE request_id LIKE 'req-{run.prefix}-%' GROUP BY request_id",
        lab.database,
    )
    for tag, count in rows:
        counts[tag] += int(count)
    return counts


def audit_calls(
    run: Run, calls: list[dict[str, Any]], fault_at: float | None, ready: list[tuple[float, int]]
) -> Outcome:
    applied = applied_counts(run)
    out = Outcome(attempted=len(calls))
    failures: Counter[str] = Counter()
    for call in calls:
        outcome = call["outcome"]
        if outcome == "ok":
            out.answered += 1
        elif outcome == "failed":
            out.failed += 1
            failures[call.get("cls", "?")] += 1
        else:
            out.timed_out += 1
        if call["op"] not in WRITES:
            continue
        times = applied.get(call["tag"], 0)
        if times > 1:
            out.duplicated += 1
        if outcome == "ok" and times == 0:
            out.lost += 1
        if outcome != "ok" and times > 0:
            out.applied_unanswered += 1
    out.failures = dict(failures)
    if fault_at is not None:
        after = [c["done"] for c in calls if c["outcome"] == "ok" and c["sent"] >= fault_at]
        out.recovery_s = round(min(after) - fault_at, 2) if after else None
    out.longest_unserved_s, out.ready_while_unserved_s = _unserved(calls, ready)
    return out


def audit_casts(run: Run, tags: list[str]) -> Outcome:
    """A backlog of casts: each must be applied exactly once (no caller waits for them)."""
    applied = applied_counts(run)
    out = Outcome(attempted=len(tags))
    for tag in tags:
        times = applied.get(tag, 0)
        out.answered += times > 0
        out.lost += times == 0
        out.duplicated += times > 1
    return out


def _unserved(calls: list[dict[str, Any]], ready: list[tuple[float, int]]) -> tuple[float, float]:
    """The longest stretch in which some call was waiting and none got an ok answer, and how
    much of it /readyz (sampled as (time, status)) said 200 without a break."""
    if not calls:
        return 0.0, 0.0
    oks = sorted(c["done"] for c in calls if c["outcome"] == "ok")
    start = min(c["sent"] for c in calls)
    end = max(c["done"] for c in calls)
    edges = [start, *oks, end]
    longest, at = 0.0, (start, start)
    for before, after in itertools.pairwise(edges):
        waiting = any(before <= c["sent"] < after and c["outcome"] != "ok" for c in calls) or (
            any(c["sent"] < before < c["done"] and c["outcome"] != "ok" for c in calls)
        )
        if waiting and after - before > longest:
            longest, at = after - before, (before, after)
    samples = [status for t, status in ready if at[0] <= t <= at[1]]
    ready_s = longest if samples and all(s == 200 for s in samples) else 0.0
    return round(longest, 2), round(ready_s, 2)


def assert_meets_target(outcome: Outcome, kind: str, nova: Outcome | None) -> None:
    """Issue 24's target for one run: nothing lost or applied twice, the queue drained, no
    long /readyz 200 while nothing was served, and (aioconductor) no more unanswered calls
    than nova-conductor had on the same fault (`nova`: its run, when it ran)."""
    assert outcome.lost == 0, f"{outcome.lost} calls answered ok were never applied: {outcome}"
    assert outcome.duplicated == 0, f"{outcome.duplicated} writes applied twice: {outcome}"
    assert outcome.broker_end == (0, 0), (
        f"conductor queue not drained (ready, unacked) = {outcome.broker_end}: {outcome}"
    )
    assert outcome.ready_while_unserved_s <= 2 * HEARTBEAT_THRESHOLD, (
        f"/readyz said 200 for {outcome.ready_while_unserved_s} s while nothing was served"
    )
    if kind == "aioconductor":
        allowed = nova.timed_out if nova is not None else 0
        assert outcome.timed_out <= allowed, (
            f"{outcome.timed_out} calls unanswered (nova-conductor: "
            f"{nova.timed_out if nova else 'not run'}): {outcome}"
        )
