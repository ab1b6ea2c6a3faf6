"""The end-to-end scenario, through nova's REST API only: boot servers one after another
(the ones to reschedule, `e2e-resched-*`, after the sequential ones), then a batch at once,
list them, soft-reboot the sequential ones, delete them all; the time from `POST /servers`
to ACTIVE is recorded per server."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.e2e.clients import HttpError, JsonApi

IMAGE = "155d900f-4e14-4e4c-a73d-069cbf4541e6"  # image1 of nova's GlanceFixture
FLAVOR = "e2e-tiny"
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Plan:
    sequential: int = 1
    parallel: int = 3
    reboot: bool = True
    timeout: float = 90.0  # per boot, reboot or delete
    rescheduled: int = 0  # servers whose first build fails (the stack's RESCHEDULE_HOST)


@dataclass
class ServerRecord:
    name: str
    batch: str  # "sequential", "rescheduled" (one after another too) or "parallel"
    id: str | None = None
    boot_seconds: float | None = None  # POST /servers to ACTIVE
    delete_seconds: float | None = None  # DELETE to 404
    statuses: list[str] = field(default_factory=list)  # every status seen, in order
    listed: str | None = None  # its status in GET /servers/detail
    host: str | None = None  # the compute it was ACTIVE on
    rebooted: bool | None = None  # None: not rebooted
    gone: bool = False
    problem: str | None = None  # why it stopped short (first failure only)

    def fail(self, problem: str) -> None:
        self.problem = self.problem or problem


# Asked while waiting: a reason to stop waiting now (e.g. the conductor refused the boot),
# or None.
Stalled = Callable[[], str | None]
# CPU seconds so far per service
CpuClock = Callable[[], dict[str, float]]


@dataclass
class Outcome:
    records: list[ServerRecord]
    # what each service spent while the batch booted (from the first POST to the last
    # ACTIVE), and how long that took: which process a batch's boots wait for
    parallel_cpu: dict[str, float] = field(default_factory=dict)
    parallel_seconds: float = 0.0


def run_scenario(
    api: JsonApi,
    plan: Plan,
    stalled: Stalled,
    after_boot: Callable[[list[ServerRecord]], None] | None = None,
    cpu: CpuClock = dict,
) -> Outcome:
    """The scenario; `after_boot` looks at the stack once every server has booted, before
    any is rebooted or deleted; `cpu` is read before and after the parallel batch."""
    _ensure_flavor(api)
    records = [ServerRecord(f"e2e-seq-{i}", "sequential") for i in range(plan.sequential)]
    records += [ServerRecord(f"e2e-resched-{i}", "rescheduled") for i in range(plan.rescheduled)]
    batch = [ServerRecord(f"e2e-par-{i}", "parallel") for i in range(plan.parallel)]
    for record in records:
        _boot(api, record, plan, stalled)
    before, started = cpu(), time.monotonic()
    _each_at_once(batch, lambda record: _boot(api, record, plan, stalled))
    seconds, after = time.monotonic() - started, cpu()
    records += batch
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    outcome = Outcome(records, spent, seconds)
    listed = api.get("/servers/detail")["servers"]
    by_id = {server["id"]: server["status"] for server in listed}
    for record in records:
        record.listed = by_id.get(record.id or "")
    if after_boot is not None:
        after_boot(records)
    if plan.reboot:
        for record in records:
            if record.batch == "sequential" and record.boot_seconds is not None:
                _reboot(api, record, plan, stalled)
    for record in records:
        if record.batch != "parallel":
            _delete(api, record, plan)
    _each_at_once(batch, lambda record: _delete(api, record, plan))
    return outcome


def _each_at_once(records: list[ServerRecord], step: Callable[[ServerRecord], None]) -> None:
    if records:
        with ThreadPoolExecutor(len(records)) as pool:
            list(pool.map(step, records))


def _ensure_flavor(api: JsonApi) -> None:
    flavor = {"name": "e2e.tiny", "ram": 64, "vcpus": 1, "disk": 1, "id": FLAVOR}
    try:
        api.get(f"/flavors/{FLAVOR}")
    except HttpError as missing:
        if missing.status != 404:
            raise
        api.post("/flavors", {"flavor": flavor})


def _boot(api: JsonApi, record: ServerRecord, plan: Plan, stalled: Stalled) -> None:
    body = {
        "server": {
            "name": record.name,
            "imageRef": IMAGE,
            "flavorRef": FLAVOR,
            "networks": "none",
        }
    }
    posted = time.monotonic()
    try:
        record.id = api.post("/servers", body)["server"]["id"]
    except (HttpError, OSError) as refused:
        record.fail(f"POST /servers: {refused!r}")
        return
    server = _wait_status(api, record, "BUILD", plan.timeout, stalled)
    if server and server["status"] == "ACTIVE":
        record.boot_seconds = time.monotonic() - posted
        record.host = str(server.get("OS-EXT-SRV-ATTR:host"))
    elif server:
        fault = server.get("fault", {}).get("message")
        record.fail(f"boot ended {server['status']}: {fault}")


def _reboot(api: JsonApi, record: ServerRecord, plan: Plan, stalled: Stalled) -> None:
    api.post(f"/servers/{record.id}/action", {"reboot": {"type": "SOFT"}})
    record.rebooted = False
    # the reboot is under way once the API has set a task state; ACTIVE with none: done
    deadline = time.monotonic() + plan.timeout
    while time.monotonic() < deadline:
        server = api.get(f"/servers/{record.id}")["server"]
        _seen(record, server["status"])
        if server["status"] == "ACTIVE" and server.get("OS-EXT-STS:task_state") is None:
            record.rebooted = True
            return
        if server["status"] not in ("ACTIVE", "REBOOT"):
            record.fail(f"reboot ended {server['status']}")
            return
        time.sleep(POLL_SECONDS)
    record.fail(f"reboot not done after {plan.timeout} s ({stalled() or 'no reason known'})")


def _delete(api: JsonApi, record: ServerRecord, plan: Plan) -> None:
    if record.id is None:
        return
    started = time.monotonic()
    api.delete(f"/servers/{record.id}")
    deadline = started + plan.timeout
    while time.monotonic() < deadline:
        try:
            server = api.get(f"/servers/{record.id}")["server"]
        except HttpError as failure:
            if failure.status != 404:
                raise
            record.gone = True
            record.delete_seconds = time.monotonic() - started
            return
        _seen(record, server["status"])
        time.sleep(POLL_SECONDS)
    record.fail(f"still there {plan.timeout} s after DELETE")


def _wait_status(
    api: JsonApi, record: ServerRecord, passing: str, timeout: float, stalled: Stalled
) -> dict[str, object] | None:
    """The server once its status is no longer `passing`; None after a timeout or a stall
    (recorded as the record's problem)."""
    deadline = time.monotonic() + timeout
    polls = 0
    while time.monotonic() < deadline:
        server: dict[str, object] = api.get(f"/servers/{record.id}")["server"]
        _seen(record, str(server["status"]))
        if server["status"] != passing:
            return server
        polls += 1
        if polls % 10 == 0 and (reason := stalled()):
            record.fail(f"stuck in {passing}: {reason}")
            return None
        time.sleep(POLL_SECONDS)
    record.fail(f"still {passing} after {timeout} s ({stalled() or 'no reason known'})")
    return None


def _seen(record: ServerRecord, status: str) -> None:
    if not record.statuses or record.statuses[-1] != status:
        record.statuses.append(status)


def boot_times(records: list[ServerRecord], batch: str) -> dict[str, float]:
    """median and max seconds from POST to ACTIVE of one batch's booted servers."""
    times = [r.boot_seconds for r in records if r.batch == batch and r.boot_seconds is not None]
    if not times:
        return {}
    return {"median": statistics.median(times), "max": max(times), "n": len(times)}
