"""The reschedule scenario's checks (`--reschedule N`): confs.RESCHEDULE_HOST fails the
first build of the servers to reschedule (nova's FakeRescheduleDriver, narrowed to them), so
its nova-compute casts `compute_task.build_instances` with the alternates and the server is
built elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.e2e import confs
from tests.e2e.clients import JsonApi
from tests.e2e.scenario import ServerRecord
from tests.e2e.stack import Stack

BUILD_EVENT = "compute__do_build_and_run_instance"
# The ERROR records a reschedule makes nova write (and aioconductor, serving build_instances
# as nova-conductor does): the failing compute's spawn failure with its traceback, the
# conductor's account of the last host's error.
SPAWN_FAILED = (
    "Instance failed to spawn: nova.exception.ComputeResourcesUnavailable: "
    "Insufficient compute resources: FakeRescheduleDriver."
)
EXPECTED_ERRORS = (SPAWN_FAILED, f"Error from last host: {confs.RESCHEDULE_HOST} ")


@dataclass
class AtBoot:
    """Where placement held each rescheduled server's resources once every server was
    ACTIVE: server name -> provider names."""

    allocations: dict[str, list[str]] = field(default_factory=dict)


def look_at_boot(stack: Stack, records: list[ServerRecord], seen: AtBoot) -> None:
    placement = stack.placement
    providers = placement.get("/resource_providers")["resource_providers"]
    names = {provider["uuid"]: provider["name"] for provider in providers}
    for record in records:
        if record.batch == "rescheduled" and record.id:
            held = placement.get(f"/allocations/{record.id}")["allocations"]
            seen.allocations[record.name] = sorted(names.get(rp, rp) for rp in held)


def build_events(api: JsonApi, server: str) -> list[dict[str, object]]:
    """The create action's events, in nova's order (with their hosts: microversion 2.62)."""
    actions = api.get(f"/servers/{server}/os-instance-actions")["instanceActions"]
    create = next(a for a in actions if a["action"] == "create")
    path = f"/servers/{server}/os-instance-actions/{create['request_id']}"
    events: list[dict[str, object]] = api.get(path)["instanceAction"].get("events", [])
    return events


def _recast_problems(stack: Stack, records: list[ServerRecord]) -> list[str]:
    """`alone`: the failing compute's (cell) conductor logged each rescheduled build's cast
    to the compute the server is ACTIVE on."""
    cell = stack.layout.cell_of(confs.RESCHEDULE_HOST)
    name = f"aioconductor:{cell.name}" if stack.layout.split else "aioconductor"
    log = stack.service(name).log.read_text(errors="replace")
    return [
        f"{record.name}: {name} logged no rescheduled build cast to {record.host}"
        for record in records
        if record.boot_seconds is not None
        and f"rescheduled build of {record.id} cast to {record.host}\n" not in log
    ]


def build_event_results(events: list[dict[str, object]]) -> dict[str, object]:
    """host -> result of each build event. nova 34 leaves the rescheduled build's event
    unfinished (result None): both builds record an event of the same name in the same
    action, and `action_event_finish` finishes the first row of that name, twice."""
    return {str(e.get("host")): e.get("result") for e in events if e["event"] == BUILD_EVENT}


def reschedule_problems(
    stack: Stack,
    records: list[ServerRecord],
    events: dict[str, list[dict[str, object]]],
    seen: AtBoot,
    routes: dict[str, dict[str, int]],
) -> list[str]:
    """Each server to reschedule ACTIVE on another host than the failing one, which logged
    its spawn failure; its create action with a build event on the failing host and one on
    its own, as nova records them (see `build_event_results`); once the servers are ACTIVE,
    its allocations on its own host's provider only (none left on the failing host's);
    build_instances served natively (`alone`: cast by the failing compute's conductor to
    the server's compute), or at least received (`legacy`), once per server."""
    problems = []
    failing = confs.RESCHEDULE_HOST
    log = stack.service(f"nova-compute:{failing}").log.read_text(errors="replace")
    records = [r for r in records if r.batch == "rescheduled"]
    for record in records:
        if record.boot_seconds is None or record.id is None:
            continue
        if record.host == failing:
            problems.append(f"{record.name}: ACTIVE on {failing}, which fails every first build")
        if f"[instance: {record.id}] {SPAWN_FAILED}" not in log:
            problems.append(f"{record.name}: {failing} never failed to spawn it")
        held = seen.allocations.get(record.name)
        if held != [record.host]:
            problems.append(f"{record.name} on {record.host}: its allocations on {held}")
        found = build_event_results(events.get(record.id, []))
        expected = {failing: "Success", str(record.host): None}
        if found != expected:
            problems.append(f"{record.name}: {BUILD_EVENT} host -> result {found}, not {expected}")
    if stack.mode == "alone":
        problems += _recast_problems(stack, records)
    # every server to reschedule is rescheduled once, booted or not
    served = routes.get("compute_task.build_instances", {})
    if stack.mode == "alone" and served.get("native", 0) < len(records):
        problems.append(f"build_instances: {served or 'never received'}, {len(records)} servers")
    if stack.mode == "legacy" and sum(served.values()) < len(records):
        problems.append(f"build_instances: {served or 'never received'}, {len(records)} servers")
    return problems
