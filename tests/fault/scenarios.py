"""The faults: each scenario runs nova's client against one conductor, injects its fault, and
audits the result. Shared by the pytest tier (tests/fault/test_faults.py, short versions) and
scripts/fault-tier (the full list, both conductors, docs/reliability.md)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from tests.fault.audit import Outcome, applied_counts, audit_calls, audit_casts
from tests.fault.lab import HEARTBEAT_THRESHOLD, Lab, Run
from tests.fault.poison import publish_poison
from tests.fault.quorum import COMMAND as QUORUM_COMMAND
from tests.fault.quorum import FOLLOWER_COMMAND as QUORUM_FOLLOWER_COMMAND
from tests.fault.quorum import KILL_COMMAND as QUORUM_KILL_COMMAND
from tests.fault.quorum import stop_leader_under_load
from tests.fault.readiness import ReadyzWatcher

Fault = Callable[[Run], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    command: str  # how the fault was made, for the report
    run: Callable[[Lab, str], Outcome]


def load_with_fault(
    lab: Lab,
    kind: str,
    name: str,
    fault: Fault | None,
    *,
    seconds: float = 30,
    fault_after: float = 8,
    rate: float = 20,
    before_start: Fault | None = None,
    wait_consuming: bool = True,
    settle: float = 2 * HEARTBEAT_THRESHOLD,
) -> Outcome:
    """nova's client at `rate` calls/s for `seconds`; `fault` runs `fault_after` s in.
    `before_start` runs before the conductor starts (with the load already running when
    `wait_consuming` is false: a conductor that must come up under load)."""
    run = Run(lab, kind, name)
    run.setup()
    try:
        with ExitStack() as stack:
            ready = stack.enter_context(ReadyzWatcher(run.metrics_port))
            fault_at: float | None = None
            if before_start is not None:
                fault_at = time.time()
                before_start(run)
            if wait_consuming:
                run.start_conductor()
                load = run.nova({"mode": "load", "rate": rate, "seconds": seconds})
                run.wait_started(load)
            else:
                load = run.nova({"mode": "load", "rate": rate, "seconds": seconds})
                run.wait_started(load)
                run.start_conductor(wait=False)
            if fault is not None:
                time.sleep(fault_after)
                fault_at = fault_at or time.time()
                fault(run)
            calls = run.finish(load)["calls"]
            broker_end = run.settle(settle)
        outcome = audit_calls(run, calls, fault_at, ready.samples if kind == "aioconductor" else [])
        outcome.broker_end = broker_end
        return outcome
    finally:
        run.teardown()


def backlog_at_start(lab: Lab, kind: str, count: int, workers: int = 1) -> Outcome:
    """`count` calls queued (as casts: nobody waits for them) before the conductor starts."""
    run = Run(lab, kind, f"backlog{count}", workers=workers)
    run.setup()
    try:
        # the queue must exist before anything is published to it: a first start declares it
        run.start_conductor()
        assert run.conductor is not None
        run.conductor.stop()
        tags = run.finish(run.nova({"mode": "casts", "count": count}), timeout=900)["tags"]
        started = time.time()
        with ReadyzWatcher(run.metrics_port) as ready:
            run.start_conductor()
            # nova-conductor takes every message at once (prefetch 0) and acks it before it
            # runs it, so an empty queue does not mean done: the database says when all are
            done_at, stalled_since = _wait_applied(
                run, tags, stall=30, limit=max(120.0, count / 40)
            )
            broker_end = run.settle(HEARTBEAT_THRESHOLD)
        outcome = audit_casts(run, tags)
        outcome.broker_end = broker_end
        outcome.recovery_s = round(done_at - started, 1) if done_at else None
        if stalled_since is not None:
            stalled = time.time() - stalled_since
            outcome.longest_unserved_s = round(stalled, 1)
            samples = [status for t, status in ready.samples if t >= stalled_since]
            if kind == "aioconductor" and samples and all(s == 200 for s in samples):
                outcome.ready_while_unserved_s = round(stalled, 1)
        return outcome
    finally:
        run.teardown()


def _wait_applied(
    run: Run, tags: list[str], stall: float, limit: float
) -> tuple[float | None, float | None]:
    """Until every tag is applied, no progress for `stall` s, or `limit` s. Returns (the time
    all were applied, or None; the time progress stopped, or None)."""
    wanted = set(tags)
    deadline = time.monotonic() + limit
    last, progress_at = -1, time.time()
    while time.monotonic() < deadline:
        applied = sum(1 for tag in applied_counts(run) if tag in wanted)
        if applied == len(wanted):
            return time.time(), None
        if applied != last:
            last, progress_at = applied, time.time()
        elif time.time() - progress_at > stall:
            return None, progress_at
        time.sleep(1)
    return None, progress_at


def fuzz(lab: Lab, kind: str, count: int, seconds: float = 30) -> Outcome:
    published: list[BaseException | None] = []

    def publish(url: str) -> None:
        try:
            publish_poison(url, count, seconds * 0.6)
            published.append(None)
        except BaseException as exc:  # reported by the scenario, not lost in a thread
            published.append(exc)

    def poison(run: Run) -> None:
        url = f"amqp://guest:guest@127.0.0.1:{lab.rabbit.port}/{run.vhost}"
        threading.Thread(target=publish, args=(url,), daemon=True).start()

    outcome = load_with_fault(lab, kind, f"fuzz{count}", poison, seconds=seconds, fault_after=3)
    if published != [None]:
        raise RuntimeError(f"the fuzz was not published whole: {published}")
    outcome.notes.append(f"{count} bad messages published")
    return outcome


def _sleep_then(seconds: float, then: Fault) -> Fault:
    def fault(run: Run) -> None:
        time.sleep(seconds)
        then(run)

    return fault


def _signal_then_restart(sig: signal.Signals) -> Fault:
    def fault(run: Run) -> None:
        assert run.conductor is not None
        if sig == signal.SIGKILL:
            run.conductor.kill9()
        else:
            run.conductor.stop(grace=60)
        run.start_conductor(wait=False)

    return fault


def _hold(start: Fault, seconds: float, end: Fault) -> Fault:
    def fault(run: Run) -> None:
        start(run)
        time.sleep(seconds)
        end(run)

    return fault


def _ctl(*args: str) -> Fault:
    return lambda run: run.lab.rabbit.ctl(*[a.replace("{vhost}", run.vhost) for a in args])


def ci_scenarios() -> list[Scenario]:
    """The short versions every CI run goes through."""
    return [
        Scenario(
            "broker connection closed under load",
            "TcpProxy.cut_all() (AMQP)",
            lambda lab, kind: load_with_fault(
                lab, kind, "broker-cut", lambda run: lab.amqp_proxy.cut_all(), seconds=20
            ),
        ),
        Scenario(
            "backlog of 5,000 at start, 1 worker",
            "5,000 casts queued, then start",
            lambda lab, kind: backlog_at_start(lab, kind, 5_000),
        ),
        Scenario(
            "poison fuzz, 1,000 bad messages",
            "tests/fault/poison.py, 1,000 in 12 s",
            lambda lab, kind: fuzz(lab, kind, 1_000, seconds=20),
        ),
        Scenario(
            "DB connections killed",
            "KILL <id> for every conductor DB connection",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "db-killed",
                lambda run: run.lab.mariadb.kill_connections(lab.database),
                seconds=20,
            ),
        ),
        Scenario(
            "SIGTERM under load, then restart",
            "kill -TERM; start again once it exits",
            lambda lab, kind: load_with_fault(
                lab, kind, "sigterm", _signal_then_restart(signal.SIGTERM), seconds=20
            ),
        ),
    ]


def full_scenarios() -> list[Scenario]:
    """Everything issue 24 lists, at full size."""
    heartbeat_plus = 3 * HEARTBEAT_THRESHOLD
    return [
        Scenario(
            "broker connection closed under load",
            "TcpProxy.cut_all() (AMQP)",
            lambda lab, kind: load_with_fault(
                lab, kind, "broker-cut", lambda run: lab.amqp_proxy.cut_all()
            ),
        ),
        Scenario(
            "broker app stop/start",
            "rabbitmqctl stop_app; 5 s; start_app",
            lambda lab, kind: load_with_fault(
                lab, kind, "app-stop", _hold(_ctl("stop_app"), 5, _ctl("start_app")), seconds=40
            ),
        ),
        Scenario(
            "broker node restart",
            "rabbitmqctl stop; rabbitmq-server (same ports)",
            lambda lab, kind: load_with_fault(
                lab, kind, "node-restart", lambda run: lab.rabbit.restart_node(), seconds=45
            ),
        ),
        Scenario(
            "memory alarm 10 s",
            "set_vm_memory_high_watermark 0.0001; 10 s; 0.4",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "mem-alarm",
                _hold(
                    _ctl("set_vm_memory_high_watermark", "0.0001"),
                    10,
                    _ctl("set_vm_memory_high_watermark", "0.4"),
                ),
                seconds=40,
            ),
        ),
        Scenario(
            "conductor queue deleted",
            "rabbitmqctl delete_queue conductor",
            lambda lab, kind: load_with_fault(
                lab, kind, "queue-deleted", _ctl("delete_queue", "-p", "{vhost}", "conductor")
            ),
        ),
        Scenario(
            f"network cut {heartbeat_plus} s (> heartbeat timeout)",
            f"TcpProxy.freeze(); {heartbeat_plus} s; cut_all(); thaw()",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "net-cut",
                _hold(
                    lambda run: lab.amqp_proxy.freeze(),
                    heartbeat_plus,
                    lambda run: (lab.amqp_proxy.cut_all(), lab.amqp_proxy.thaw()),
                ),
                seconds=60,
            ),
        ),
        Scenario(
            "stalled-but-open link 15 s",
            "TcpProxy.freeze(); 15 s; thaw()",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "stalled",
                _hold(lambda run: lab.amqp_proxy.freeze(), 15, lambda run: lab.amqp_proxy.thaw()),
                seconds=45,
            ),
        ),
        Scenario(
            "broker refused at start (11 s)",
            "TcpProxy.go_down(); start; 11 s; come_back()",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "refused-at-start",
                _sleep_then(11, lambda run: lab.amqp_proxy.come_back()),
                fault_after=0,
                before_start=lambda run: lab.amqp_proxy.go_down(),
                wait_consuming=False,
            ),
        ),
        Scenario(
            "DB restart",
            "mariadbd stopped (SIGTERM) and started again",
            lambda lab, kind: load_with_fault(
                lab, kind, "db-restart", lambda run: lab.mariadb.restart()
            ),
        ),
        Scenario(
            "DB connections killed",
            "KILL <id> for every conductor DB connection",
            lambda lab, kind: load_with_fault(
                lab, kind, "db-killed", lambda run: run.lab.mariadb.kill_connections(lab.database)
            ),
        ),
        Scenario(
            "DB stalled 10 s",
            "TcpProxy.freeze() (DB); 10 s; thaw()",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "db-stall10",
                _hold(lambda run: lab.db_proxy.freeze(), 10, lambda run: lab.db_proxy.thaw()),
            ),
        ),
        Scenario(
            "DB stalled 60 s",
            "TcpProxy.freeze() (DB); 60 s; thaw()",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "db-stall60",
                _hold(lambda run: lab.db_proxy.freeze(), 60, lambda run: lab.db_proxy.thaw()),
                seconds=90,
            ),
        ),
        Scenario(
            "DB unreachable at start (20 s)",
            "TcpProxy.go_down() (DB); start; 20 s; back",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "db-down-at-start",
                _sleep_then(20, lambda run: lab.db_proxy.come_back()),
                fault_after=0,
                before_start=lambda run: lab.db_proxy.go_down(),
                wait_consuming=False,
                seconds=40,
            ),
        ),
        Scenario(
            "kill -9 under load, then restart",
            "kill -KILL (process group); start again",
            lambda lab, kind: load_with_fault(
                lab, kind, "kill9", _signal_then_restart(signal.SIGKILL)
            ),
        ),
        Scenario(
            "SIGTERM under load, then restart",
            "kill -TERM; start again once it exits",
            lambda lab, kind: load_with_fault(
                lab, kind, "sigterm", _signal_then_restart(signal.SIGTERM)
            ),
        ),
        Scenario(
            "SIGHUP under load",
            "kill -HUP",
            lambda lab, kind: load_with_fault(
                lab,
                kind,
                "sighup",
                lambda run: run.conductor.signal(signal.SIGHUP),  # type: ignore[union-attr]
            ),
        ),
        Scenario(
            "poison fuzz, 10,000 bad messages",
            "tests/fault/poison.py, 10,000 in 36 s",
            lambda lab, kind: fuzz(lab, kind, 10_000, seconds=60),
        ),
        Scenario(
            "backlog of 50,000 at start, 1 worker",
            "50,000 casts queued, then start",
            lambda lab, kind: backlog_at_start(lab, kind, 50_000),
        ),
        Scenario(
            "backlog of 50,000 at start, 2 workers",
            "50,000 casts queued, then start",
            lambda lab, kind: backlog_at_start(lab, kind, 50_000, workers=2),
        ),
        Scenario(
            "quorum queue leader stopped (3-node cluster)",
            QUORUM_COMMAND,
            stop_leader_under_load,
        ),
        Scenario(
            "quorum queue leader killed (3-node cluster)",
            QUORUM_KILL_COMMAND,
            lambda lab, kind: stop_leader_under_load(lab, kind, crash=True),
        ),
        Scenario(
            "quorum queue leader stopped, conductor on a follower (3-node cluster)",
            QUORUM_FOLLOWER_COMMAND,
            lambda lab, kind: stop_leader_under_load(lab, kind, on_follower=True),
        ),
    ]
