"""BuildRequest.get_new_instance and Instance.create against nova 34.0.0's own objects.

nova's side builds each BuildRequest as nova-api does and runs the conductor's
get_new_instance + create() on its cell database; our side starts from the same build
request primitive and runs new_instance + create_instance on its own. The primitives and
every row of every table the create writes must match (ids included, timestamps as set or
not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aioconductor.boot.failed_build import add_instance_fault, set_vm_state_error
from aioconductor.boot.instance_create import create_instance
from aioconductor.boot.new_instance import new_instance
from aioconductor.errors import NovaError
from tests.compat.boot_rows import (
    CTX,
    Pair,
    assert_same,
    assert_same_tables,
    database_pair,
    our_database,
    run_nova,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat, pytest.mark.timeout(600)]

TABLES = ["instances", "instance_extra", "instance_info_caches", "instance_metadata",
          "instance_system_metadata", "instance_id_mappings", "s3_images", "security_groups",
          "security_group_instance_association", "tags", "block_device_mapping"]  # fmt: skip
CASES: list[dict[str, Any]] = [
    {"label": "plain boot", "name": "plain"},
    {
        "label": "metadata and keypair",
        "name": "keyed",
        "metadata": {"role": "web", "tier": "front"},
        "key_name": "alice-key",
        "user_data": "IyEvYmluL3NoCmVjaG8gaGk=",
        "access_ip_v4": "192.0.2.7",
    },
    {"label": "kernel image, groups in the request spec only", "name": "secure", "kernel": True},
    {
        "label": "requested availability zone",
        "name": "zoned",
        "availability_zone": "az1",
        "host_az": "az1",
    },
    {"label": "host availability zone", "name": "hosted", "host_az": "nova"},
    {"label": "multi-create", "name": "many", "count": 3, "host_az": "nova"},
    {"label": "cell0 burial", "name": "buried", "availability_zone": "az9"},
]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with database_pair("boot_inst") as databases:
        yield databases


@pytest.fixture(scope="module")
def nova_answers(pair: Pair) -> list[dict[str, Any]]:
    # nova-api's records on our side too: the same build requests, by nova's own code
    answers: list[dict[str, Any]] = run_nova(pair.nova, "instances", cases=CASES)
    return answers


async def test_new_and_created_instances_match_nova(
    pair: Pair, nova_answers: list[dict[str, Any]]
) -> None:
    host_az = {case["label"]: case.get("host_az") for case in CASES}
    async with our_database(pair.ours.cell) as db:
        for answer in nova_answers:
            label = answer["label"]
            fresh = new_instance(answer["build_request"])
            assert_same(fresh, answer["new_instance"], f"{label}: new instance")
            if host_az[label] is not None:
                fresh["nova_object.data"]["availability_zone"] = host_az[label]
            created = await create_instance(db, CTX, fresh)
            assert_same(created, answer["created"], f"{label}: created")
    rows = assert_same_tables(pair, TABLES)
    assert len(rows["instances"]) == 9
    assert [r["name"] for r in rows["security_groups"]] == ["default"]  # ensured once
    assert len(rows["s3_images"]) == 2  # the image, then the kernel image
    by_name = {r["display_name"]: r for r in rows["instances"]}
    assert by_name["zoned"]["availability_zone"] == "az1"
    assert by_name["buried"]["availability_zone"] == "az9"
    assert {"many-1", "many-2", "many-3"} <= set(by_name)
    extra = rows["instance_extra"][0]
    assert extra["flavor"]["cur"]["nova_object.data"]["description"] is None
    assert rows["instance_metadata"]
    assert rows["instance_system_metadata"]
    created = [a["created"]["nova_object.data"] for a in nova_answers]
    assert created[1]["ec2_ids"]["nova_object.data"]["instance_id"] == "i-00000002"
    assert (
        created[1]["keypairs"]["nova_object.data"]["objects"][0]["nova_object.data"]["name"]
        == "alice-key"
    )


async def test_unique_server_names_match_nova(pair: Pair) -> None:
    """[DEFAULT] osapi_compute_unique_server_name_scope: InstanceExists on a live hostname
    of the project (any case), as nova's instance_create raises it."""
    cases = [
        {"label": "first", "name": "dup", "hostname": "dup-host"},
        {"label": "same name, other case", "name": "dup2", "hostname": "DUP-Host"},
        {"label": "another name", "name": "dup3", "hostname": "other-host"},
    ]
    scope = [["DEFAULT", "osapi_compute_unique_server_name_scope", "project"]]
    answers: list[dict[str, Any]] = run_nova(pair.nova, "instances", cases=cases, overrides=scope)
    async with our_database(pair.ours.cell) as db:
        for answer in answers:
            fresh = new_instance(answer["build_request"])
            if "error" in answer:
                with pytest.raises(NovaError) as raised:
                    await create_instance(db, CTX, fresh, unique_name_scope="project")
                got = {"class": type(raised.value).__name__, "kwargs": raised.value.kwargs}
                assert got == answer["error"]
                continue
            created = await create_instance(db, CTX, fresh, unique_name_scope="project")
            assert_same(created, answer["created"], answer["label"])
    assert [a.get("error", {}).get("class") for a in answers] == [None, "InstanceExists", None]
    assert answers[1]["error"]["kwargs"]["name"] == "dup-host"
    assert_same_tables(pair, ["instances", "instance_extra", "instance_id_mappings"])


async def test_failed_build_writes_match_nova(pair: Pair) -> None:
    """The burial's set_vm_state_and_notify: ERROR without a task, and the fault."""
    answers = run_nova(pair.nova, "instances", cases=[{"label": "failed", "name": "failed"}])
    uuid = answers[0]["created"]["nova_object.data"]["uuid"]
    reason = "There are not enough hosts available. " + "é" * 200  # past 255 bytes
    told = run_nova(pair.nova, "failed_build", uuids=[uuid], reason=reason)
    async with our_database(pair.ours.cell) as db:
        await create_instance(db, CTX, new_instance(answers[0]["build_request"]))
        saved = await set_vm_state_error(db, CTX, uuid)
        await add_instance_fault(
            db, uuid, code=500, message=told["message"], details="Traceback ...",
            host="conductor-host",
        )  # fmt: skip
    assert saved["nova_object.data"]["vm_state"] == "error"
    rows = assert_same_tables(pair, ["instances", "instance_faults"], ignore={"details"})
    fault = rows["instance_faults"][-1]
    assert fault["code"] == 500
    assert len(fault["message"].encode()) <= 255
    assert fault["message"].startswith("No valid host was found. There are not enough")
    failed = next(r for r in rows["instances"] if r["uuid"] == uuid)
    assert (failed["vm_state"], failed["task_state"]) == ("error", None)
