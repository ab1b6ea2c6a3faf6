"""What an end-to-end run must show, each check a list of problems (empty: passed)."""

from __future__ import annotations

import time

from tests.compat.test_real_compute import NOVA_SHUTDOWN_BUG, error_lines
from tests.e2e.clients import HttpError, JsonApi
from tests.e2e.scenario import ServerRecord
from tests.e2e.stack import Stack

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# nova-compute deletes an instance's allocations after the API already answers 404
SETTLE_SECONDS = 15.0


def server_problems(records: list[ServerRecord]) -> list[str]:
    """Every server ACTIVE (booted, listed, rebooted where asked), then gone."""
    problems = []
    for record in records:
        if record.problem:
            problems.append(f"{record.name}: {record.problem}")
        elif record.boot_seconds is None:
            problems.append(f"{record.name}: never ACTIVE (seen {record.statuses})")
        if record.boot_seconds is not None and record.listed != "ACTIVE":
            problems.append(f"{record.name}: listed as {record.listed}")
        if record.rebooted is False and not record.problem:
            problems.append(f"{record.name}: reboot did not finish")
        if not record.gone:
            problems.append(f"{record.name}: not deleted (seen {record.statuses})")
    return problems


def allocation_problems(placement: JsonApi, records: list[ServerRecord]) -> list[str]:
    """No allocation left in placement: none held by a server, none on any provider."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        left = _allocations_left(placement, records)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def _allocations_left(placement: JsonApi, records: list[ServerRecord]) -> list[str]:
    left = []
    for record in records:
        if record.id and (held := placement.get(f"/allocations/{record.id}")["allocations"]):
            left.append(f"{record.name} holds {held}")
    for provider in placement.get("/resource_providers")["resource_providers"]:
        path = f"/resource_providers/{provider['uuid']}/allocations"
        if allocations := placement.get(path)["allocations"]:
            left.append(f"provider {provider['name']} has {sorted(allocations)}")
    return left


def action_problems(
    api: JsonApi,
    records: list[ServerRecord],
    create_events: dict[str, list[dict[str, object]]] | None = None,
    left_unfinished: str | None = None,
) -> list[str]:
    """Every instance action of every server finished, each of its events `Success`.
    `create_events`: each server's create events as read before (shown with their hosts);
    `left_unfinished`: the create event nova itself leaves unfinished for a rescheduled
    server (reschedule.py checks it)."""
    problems = []
    for record in records:
        if record.id is None:
            continue
        try:
            actions = api.get(f"/servers/{record.id}/os-instance-actions")["instanceActions"]
        except HttpError as failure:
            # a server deleted while still a build request never had an instance
            if failure.status == 404 and record.boot_seconds is None:
                continue
            raise
        names = sorted(action["action"] for action in actions)
        if record.boot_seconds is not None and "create" not in names:
            problems.append(f"{record.name}: no create action ({names})")
        for action in actions:
            path = f"/servers/{record.id}/os-instance-actions/{action['request_id']}"
            events = api.get(path)["instanceAction"].get("events", [])
            if action["action"] == "create" and create_events and record.id in create_events:
                events = create_events[record.id]
            for event in events:
                unfinished = event.get("result") is None and action["action"] == "create"
                rescheduled = record.batch == "rescheduled"
                if unfinished and rescheduled and event["event"] == left_unfinished:
                    continue
                if event.get("result") != "Success":
                    problems.append(
                        f"{record.name}: {action['action']} event {event['event']} "
                        f"on {event.get('host', '?')} "
                        f"{event.get('result')}: {event.get('traceback') or ''}"[:800]
                    )
    return problems


def log_problems(stack: Stack, expected: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """ERROR records and tracebacks in every service's log, nova's known shutdown bug
    aside (see tests/compat/test_real_compute.py), and the records the scenario makes nova
    write (`expected`: a text of their first line each)."""
    known = (NOVA_SHUTDOWN_BUG, *expected)
    found = {s.name: error_lines(s.log, known) for s in stack.services}
    return {name: lines for name, lines in found.items() if lines}


def conductor_routes(samples: Samples) -> dict[str, dict[str, int]]:
    """method -> route (native, forwarded) -> requests, from aioconductor's /metrics."""
    routes: dict[str, dict[str, int]] = {}
    for (name, labels), value in samples.items():
        if name == "aioconductor_received_messages_total" and value:
            label = dict(labels)
            routes.setdefault(label["method"], {})[label["route"]] = int(value)
    return routes


def conductor_failures(samples: Samples) -> dict[str, dict[str, int]]:
    """method -> error -> requests aioconductor answered with a failure."""
    failures: dict[str, dict[str, int]] = {}
    for (name, labels), value in samples.items():
        if name == "aioconductor_failed_messages_total" and value:
            label = dict(labels)
            failures.setdefault(label["method"], {})[label["error"]] = int(value)
    return failures


def forwarded(routes: dict[str, dict[str, int]]) -> dict[str, int]:
    """The methods aioconductor forwarded to the legacy conductor, with their counts."""
    return {method: by["forwarded"] for method, by in routes.items() if by.get("forwarded")}


# what nova 34.0.0 prints when a service starts in eventlet mode (monkey_patch.py)
EVENTLET_MODE = "Eventlet based concurrency mode is deprecated"


def eventlet_problems(stack: Stack) -> list[str]:
    """`nova-eventlet`: every nova-conductor (with several cells, the superconductor and
    each cell's) really ran in eventlet mode (a threading one would make the mode's
    measurements the `nova` mode's again)."""
    conductors = [s for s in stack.services if s.name.split(":")[0] == "nova-conductor"]
    if not conductors:
        return ["no nova-conductor ran"]
    return [
        f"{s.name} did not start in eventlet mode"
        for s in conductors
        if EVENTLET_MODE not in s.log.read_text(errors="replace")
    ]
