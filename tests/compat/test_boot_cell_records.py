"""The conductor's _create_block_device_mapping and _create_tags against nova 34.0.0's own
code: same instances (made from the same build requests), same BDM lists and tags, the
rows and the returned lists compared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aioconductor.boot.cell_records import create_block_device_mappings, create_tags
from aioconductor.boot.instance_create import create_instance
from aioconductor.boot.new_instance import new_instance
from aioconductor.context import RequestContext
from aioconductor.errors import NovaError
from tests.compat.boot_rows import (
    CTX,
    VOLATILE,
    Pair,
    assert_same,
    assert_same_tables,
    database_pair,
    our_database,
    run_nova,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat, pytest.mark.timeout(600)]

# random on each side: compared as set or not
BDM_VOLATILE = VOLATILE | {"uuid"}
SWAP = {"source_type": "blank", "destination_type": "local", "guest_format": "swap",
        "boot_index": -1, "delete_on_termination": True, "device_name": None}  # fmt: skip
IMAGE_ROOT = {"source_type": "image", "destination_type": "local", "boot_index": 0,
              "delete_on_termination": True, "image_id": "1e1e1e1e-1111-4111-8111-111111111111",
              "device_name": "/dev/vda"}  # fmt: skip
CASES: list[dict[str, Any]] = [
    {"label": "image boot, legacy request", "name": "legacy"},
    {
        "label": "flavor swap and ephemeral",
        "name": "disks",
        "flavorid": "43",
        "flavor_name": "m1.disks",
        "swap": 512,
        "ephemeral_gb": 5,
        "tags": ["a", "b"],
    },
    {
        "label": "blank disks without sizes, two swaps",
        "name": "blanks",
        "flavorid": "44",
        "flavor_name": "m1.blank",
        "swap": 256,
        "ephemeral_gb": 3,
        "bdms": [
            IMAGE_ROOT,
            SWAP,
            {**SWAP, "device_name": "/dev/vdc"},
            {
                "source_type": "blank",
                "destination_type": "local",
                "boot_index": -1,
                "device_name": "/dev/vdd",
                "guest_format": None,
                "delete_on_termination": True,
            },
            {
                "source_type": "volume",
                "destination_type": "volume",
                "boot_index": -1,
                "volume_id": "3e3e3e3e-3333-4333-8333-333333333333",
                "device_name": "/dev/vde",
                "volume_size": 8,
                "delete_on_termination": False,
                "tag": "data",
            },
        ],
        "tags": ["z", "a", "m"],
        "tag_times": 2,
    },
    {"label": "multi-create, empty tags", "name": "many", "count": 2, "tags": []},
]


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with database_pair("boot_cell") as databases:
        yield databases


async def test_bdms_and_tags_match_nova(pair: Pair) -> None:
    answers: list[dict[str, Any]] = run_nova(pair.nova, "cell_records", cases=CASES)
    times = {case["label"]: case.get("tag_times", 1) for case in CASES}
    async with our_database(pair.ours.cell) as db:
        for answer in answers:
            label = answer["label"]
            created = await create_instance(db, CTX, new_instance(answer["build_request"]))
            data = created["nova_object.data"]
            made = await create_block_device_mappings(
                db, CTX, data["flavor"], data["uuid"], answer["bdms"]
            )
            assert_same(made, answer["bdms_created"], f"{label}: bdms", BDM_VOLATILE)
            for _ in range(times[label]):
                tags = await create_tags(db, CTX, data["uuid"], answer["tags"])
            assert_same(tags, answer["tags_created"], f"{label}: tags")
    rows = assert_same_tables(pair, ["instances", "block_device_mapping", "tags"],
                              ignore={"uuid"})  # fmt: skip
    bdms = rows["block_device_mapping"]
    swaps = [r for r in bdms if r["guest_format"] == "swap"]
    assert [bool(r["deleted"]) for r in swaps][-2:] == [True, False]  # one swap left
    sizes = {r["device_name"]: r["volume_size"] for r in bdms if r["source_type"] == "blank"}
    assert sizes["/dev/vdd"] == 3  # the flavor's ephemeral size
    assert len(rows["tags"]) == 5
    assert {r["tag"] for r in rows["tags"]} == {"a", "b", "m", "z"}


async def test_tag_errors_match_nova(pair: Pair) -> None:
    answers = run_nova(pair.nova, "instances", cases=[{"label": "tagged", "name": "tagged"}])
    uuid = answers[0]["created"]["nova_object.data"]["uuid"]
    async with our_database(pair.ours.cell) as db:
        await create_instance(db, CTX, new_instance(answers[0]["build_request"]))
        calls = [
            {"uuid": "9e9e9e9e-9999-4999-8999-999999999999", "tags": ["x"]},
            {"uuid": uuid, "tags": ["x"], "project_id": "p2"},
            {"uuid": uuid, "tags": ["x"], "project_id": "p2", "admin": True},
        ]
        want = run_nova(pair.nova, "tag_errors", calls=calls)
        for call, expected in zip(calls, want, strict=True):
            ctx = RequestContext(
                is_admin=call.get("admin", False),
                project_id=call.get("project_id", "p1"),
                user_id="u1",
            )
            tags = {"nova_object.name": "TagList", "nova_object.namespace": "nova",
                    "nova_object.version": "1.1", "nova_object.data": {"objects": [
                        {"nova_object.name": "Tag", "nova_object.namespace": "nova",
                         "nova_object.version": "1.1", "nova_object.data": {"tag": t}}
                        for t in call["tags"]]}}  # fmt: skip
            try:
                await create_tags(db, ctx, call["uuid"], tags)
                got: dict[str, Any] = {"ok": True}
            except NovaError as exc:
                got = {"class": type(exc).__name__, "kwargs": exc.kwargs}
            assert got == expected, call
    assert want[0]["class"] == "InstanceNotFound"
    assert want[2] == {"ok": True}
