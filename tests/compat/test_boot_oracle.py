"""compute_task.schedule_and_build_instances: aioconductor against nova-conductor 34.0.0.

The same boot request (nova-api's own code writes the rows and casts) goes to each
conductor on identical databases, with the same scheduler answer; everything each leaves
behind must be equal: every row of the API, cell0 and cell1 databases, the
`build_and_run_instance` cast the chosen compute receives, the RequestSpec each sends the
scheduler, and placement's requests. Ids and timestamps are compared by form; both sides
count ids from 1, so the ids themselves match too.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.compat.boot_oracle import Outcome, Scenario, Side, run, sides

# a scenario runs both conductors (the first also starts them), a reschedule twice over
pytestmark = [pytest.mark.compat, pytest.mark.connected, pytest.mark.timeout(300)]

# values that differ per run by nature: compared by form
_VOLATILE = {"created_at", "updated_at", "deleted_at", "start_time", "finish_time",
             "_unique_id", "_context_timestamp", "timestamp", "launched_at"}  # fmt: skip
# text holding a traceback: compared by its first line
_TRACEBACKS = {"traceback", "details"}
# nova's set-typed fields: a set goes out as a list in the sending process's hash order
_SETS = {"required_traits", "forbidden_traits", "forbidden_aggregates"}
# the conductors' own service rows: not the boot's
_NOT_COMPARED = {"services"}
# a server group's hosts and members: lists nova builds from sets
_SETS |= {"group_hosts", "group_members", "group_policies"}
_GROUP_SET_FIELDS = ("hosts", "members")
EARLIER_HOST = "oracle-compute-3"  # where the group's earlier member runs

SCENARIOS = [
    Scenario("single"),
    Scenario("multi_create", instances=2),
    Scenario("tags_bdm_metadata", options={"tags": ["web", "prod"], "blank_bdm": True,
                                           "ephemeral_gb": 1, "metadata": {"role": "db"}}),
    Scenario("no_valid_host", scheduler_mode="no_valid_host"),
    Scenario("second_host_not_mapped", instances=2, second_host_unmapped=True),
    Scenario("build_request_deleted", delete_build_requests=True),
    Scenario("quota_exceeded_on_recheck", instances=2, options={"instance_quota": 1,
                                                               "tags": ["t"]}),
    # compute_task.build_instances: a compute's reschedule after a failed build
    Scenario("reschedule_to_alternate", reschedule="alternate",
             options={"tags": ["web"], "blank_bdm": True}),
    Scenario("reschedule_alternate_full", reschedule="full"),
    Scenario("reschedule_no_alternate", alternates=0, reschedule="alternate"),
    Scenario("reschedule_max_attempts", reschedule="attempts", attempts=3),
    # a QoS port's request group mapped to the chosen provider, then to the alternate's
    Scenario("qos_port_rescheduled", reschedule="alternate",
             options={"port_resource_request": "3b0a5c1e-8f4d-4e2a-9c6b-7d8e9f0a1b2c"}),
    # server groups: the group's hosts, policy and members to the scheduler and the compute
    Scenario("anti_affinity_group", options={"server_group": {"policy": "anti-affinity",
                                                              "member_on": EARLIER_HOST}}),
    Scenario("affinity_group_multi_create", instances=2,
             options={"server_group": {"policy": "affinity"}}),
    Scenario("soft_affinity_not_configured", options={"server_group": {"policy": "soft-affinity"}}),
    Scenario("reschedule_in_group", reschedule="alternate",
             options={"server_group": {"policy": "anti-affinity", "member_on": EARLIER_HOST}}),
]  # fmt: skip


def normalized(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        # each side's own databases and vhost
        value = re.sub(r"aioc_bo_(aio|nova)_", "aioc_bo_<side>_", value)
    if key in _VOLATILE:
        return "<time>" if value not in (None, "") else value
    if key in _SETS and isinstance(value, list):
        return sorted(value, key=str)
    if key in _TRACEBACKS and isinstance(value, str) and value:
        # the code is another: whether there is one, and a fault's header line
        first = value.splitlines()[0]
        return first if first.startswith("Traceback") else "<frames>"
    if isinstance(value, datetime.datetime):
        return "<time>"
    if isinstance(value, dict):
        result = {k: normalized(v, k) for k, v in value.items()}
        if result.get("nova_object.name") == "InstanceGroup":
            fields = result.get("nova_object.data") or {}
            for name in _GROUP_SET_FIELDS:
                if isinstance(fields.get(name), list):
                    fields[name] = sorted(fields[name], key=str)
        if _is_bdm(value) and isinstance(result.get("uuid"), str):
            result["uuid"] = "<generated uuid>"  # BlockDeviceMapping.create makes one
        if "nova_object.changes" in result:
            result["nova_object.changes"] = sorted(result["nova_object.changes"])
        return result
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return {"json": normalized(json.loads(value))}
        except ValueError:
            return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", value):
        return "<time>"
    return value


def _is_bdm(value: dict[str, Any]) -> bool:
    """A block_device_mapping row, or a BlockDeviceMapping object's fields."""
    return "source_type" in value and "destination_type" in value


def rows(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    return {
        table: sorted((normalized(r) for r in found), key=lambda r: json.dumps(r, default=str))
        for table, found in tables.items()
        if table not in _NOT_COMPARED
    }


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Side]]:
    tmp: Path = tmp_path_factory.mktemp("boot-oracle")
    with sides(tmp) as built:
        try:
            for side in built.values():
                side.start()
            yield built
        finally:
            for side in built.values():
                side.stop()


def _differences(ours: Any, theirs: Any, where: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            if key not in ours:
                found.append(f"{where}.{key}: missing here (nova: {theirs[key]!r:.200})")
            elif key not in theirs:
                found.append(f"{where}.{key}: extra here ({ours[key]!r:.200})")
            else:
                found += _differences(ours[key], theirs[key], f"{where}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        found = []
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found += _differences(a, b, f"{where}[{index}]")
        return found
    if isinstance(ours, list) and isinstance(theirs, list):

        def shown(items: list[Any]) -> list[Any]:
            return [i.get("event_type", i) if isinstance(i, dict) else i for i in items]

        return [f"{where}: {len(ours)} items {shown(ours)!r:.600} != nova's {len(theirs)} "
                f"{shown(theirs)!r:.600}"]  # fmt: skip
    if ours != theirs:
        return [f"{where}: {ours!r:.300} != nova's {theirs!r:.300}"]
    return []


def compare(ours: Outcome, theirs: Outcome) -> list[str]:
    found = []
    # nova-conductor keeps an image's EC2 id in a per-process cache that knows no cells: once
    # a cell1 boot made the id, a cell0 burial finds it there and writes no s3_images row in
    # cell0; we make the row in the cell the instance is created in (as a fresh process does)
    for outcome in (ours, theirs):
        outcome.cell0.pop("s3_images", None)
    for part in ("api", "cell0", "cell1"):
        found += _differences(rows(getattr(ours, part)), rows(getattr(theirs, part)), part)
    found += _differences(normalized(ours.casts), normalized(theirs.casts), "cast")
    found += _differences(
        normalized(ours.scheduler_calls), normalized(theirs.scheduler_calls), "scheduler"
    )
    found += _differences(ours.placement, theirs.placement, "placement")
    found += _differences(
        normalized(ours.placement_bodies), normalized(theirs.placement_bodies), "placement body"
    )
    found += _differences(
        notification_stream(ours.notifications),
        notification_stream(theirs.notifications),
        "notifications",
    )
    return found


def notification_stream(messages: list[dict[str, Any]]) -> list[Any]:
    """Each queue's notifications, normalized, in a stable order (instances of a
    multi-create may interleave differently from one run to the next)."""
    shown = [normalized({k: v for k, v in m.items() if k != "message_id"}) for m in messages]
    return sorted(
        shown, key=lambda m: (m["queue"], m.get("event_type"), json.dumps(m, default=str))
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_boot_matches_nova_conductor(both: dict[str, Side], scenario: Scenario) -> None:
    uuids = [str(uuid.uuid4()) for _ in range(scenario.instances)]
    request_id = f"req-{uuid.uuid4()}"
    # the two sides share nothing (databases, vhost, placement, scheduler): run at once
    with ThreadPoolExecutor(2) as pool:
        nova_side = pool.submit(run, both["nova"], scenario, uuids, request_id)
        aio_side = pool.submit(run, both["aio"], scenario, uuids, request_id)
        theirs, ours = nova_side.result(), aio_side.result()
    # the scenario did what it is about, on nova's side first
    if scenario.scheduler_mode == "no_valid_host":
        assert [r["vm_state"] for r in theirs.cell0["instances"]] == ["error"]
    elif scenario.name == "soft_affinity_not_configured":
        # refused before the scheduler is asked: buried in cell0 with nova's reason
        assert not theirs.scheduler_calls
        assert [r["vm_state"] for r in theirs.cell0["instances"]] == ["error"]
        fault = theirs.cell0["instance_faults"][0]["message"]
        assert "ServerGroupSoftAffinityWeigher not configured" in fault, fault
    elif scenario.delete_build_requests:
        assert not theirs.casts
    elif "instance_quota" in scenario.options:
        # over quota once created: both in ERROR in cell1 with a fault, nothing cast
        assert not theirs.casts
        assert [r["vm_state"] for r in theirs.cell1["instances"]] == ["error", "error"]
        assert len(theirs.cell1["instance_faults"]) == 2
    elif scenario.reschedule == "alternate" and scenario.alternates:
        # built on the first host, then on the alternate, where placement granted the claim
        assert [c["args"]["node"] for c in theirs.casts] == [
            "oracle-compute-node",
            "oracle-compute-2-node",
        ], both["nova"].tail()
        assert ("PUT", f"/placement/allocations/{uuids[0]}") in theirs.placement
    elif scenario.reschedule:
        # no alternate left to build on: ERROR, with nova's reason in the fault
        assert [c["args"]["node"] for c in theirs.casts] == ["oracle-compute-node"]
        assert [r["vm_state"] for r in theirs.cell1["instances"]] == ["error"]
        assert len(theirs.cell1["instance_faults"]) == 1, both["nova"].tail()
    elif scenario.second_host_unmapped:
        assert len(theirs.casts) == 1
        assert [r["vm_state"] for r in theirs.cell0["instances"]] == ["error"]
    else:
        assert len(theirs.casts) == scenario.instances, both["nova"].tail()
    group = scenario.options.get("server_group")
    if group and theirs.casts:
        _assert_group_sent(theirs, group, uuids)
    if "instance_quota" not in scenario.options:
        assert "build_requests" not in ours.api, (
            f"aioconductor left build requests:\n{both['aio'].tail()}"
        )
    if not scenario.delete_build_requests:
        # nova's notifications are on: the boot's own and its failure paths' are sent
        assert theirs.notifications, "nova-conductor sent no notification"
    differences = compare(ours, theirs)
    assert not differences, "\n".join(differences[:60]) + f"\n{both['aio'].tail(3000)}"


def _assert_group_sent(theirs: Outcome, group: dict[str, Any], uuids: list[str]) -> None:
    """What the scenario is about, on nova's side: the earlier member's host and every
    member reach the scheduler and the compute."""
    hosts = [group["member_on"]] if group.get("member_on") else []
    sent = theirs.scheduler_calls[0]["spec"]["nova_object.data"]["instance_group"]
    assert sorted(sent["nova_object.data"]["hosts"]) == hosts
    assert sent["nova_object.data"]["policy"] == group["policy"]
    props = theirs.casts[0]["args"]["filter_properties"]
    assert props["group_policies"] == [group["policy"]]
    assert sorted(props["group_hosts"]) == hosts
    assert set(uuids) <= set(props["group_members"])
