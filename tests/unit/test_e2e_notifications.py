"""The end-to-end tier's notification comparison, on hand-made streams (no services)."""

from __future__ import annotations

from typing import Any

from tests.e2e import confs
from tests.e2e.notifications import Notification, compare, per_server
from tests.e2e.scenario import ServerRecord

SERVER = "6f1c5a3e-6d1b-4c4e-9a57-3f0f6cbb1a11"
OTHER = "0b4f9c2e-1111-4c4e-9a57-3f0f6cbb1a22"


def update(publisher: str, task: str | None, *, server: str = SERVER, **extra: Any) -> Notification:
    body = {
        "event_type": "compute.instance.update",
        "publisher_id": publisher,
        "message_id": "3c8f1f0e-2b7a-4a1e-8f5e-1d9f4c2b7a10",
        "timestamp": "2026-12-06 02:04:25.050668",
        "payload": {
            "instance_id": server,
            "new_task_state": task,
            "host": extra.pop("host", "e2e-compute-1"),
            "reservation_id": extra.pop("reservation_id", "r-mx0xdr2x"),
            "updated_at": "2026-12-06T02:04:25.000000",
            **extra,
        },
    }
    return Notification("legacy", "info", body["event_type"], publisher, body)


def start(publisher: str = "compute.e2e-compute-1", server: str = SERVER) -> Notification:
    body = {
        "event_type": "compute.instance.create.start",
        "publisher_id": publisher,
        "payload": {"instance_id": server},
    }
    return Notification("legacy", "info", body["event_type"], publisher, body)


def streams(found: list[Notification], server: str = SERVER) -> Any:
    return per_server(found, [ServerRecord("e2e-seq-0", "sequential", id=server)])


def test_runs_with_other_ids_times_and_hosts_compare_equal() -> None:
    conductor = f"compute.{confs.CONDUCTOR_HOST}"
    legacy = f"compute.{confs.LEGACY_CONDUCTOR_HOST}"
    nova = streams([update(conductor, None), start()])
    ours = streams(
        [
            update(legacy, None, server=OTHER, host="e2e-compute-2", reservation_id="r-2odal136"),
            start("compute.e2e-compute-2", OTHER),
        ],
        server=OTHER,
    )
    # the same server name in both runs: its id became its name
    comparison = compare(nova, ours)
    assert comparison.differences == []
    assert comparison.interleaving == []


def test_a_payload_field_that_differs_is_named() -> None:
    conductor = f"compute.{confs.CONDUCTOR_HOST}"
    comparison = compare(
        streams([update(conductor, "spawning")]), streams([update(conductor, None)])
    )
    assert len(comparison.differences) == 1
    assert ".payload.new_task_state" in comparison.differences[0]


def test_a_missing_event_is_a_difference_not_an_interleaving() -> None:
    conductor = f"compute.{confs.CONDUCTOR_HOST}"
    comparison = compare(
        streams([update(conductor, None), update(conductor, "spawning"), start()]),
        streams([update(conductor, None), start()]),
    )
    assert "event types differ" in comparison.differences[0]
    assert comparison.interleaving == []


def test_the_same_messages_in_another_queue_order_is_an_interleaving() -> None:
    conductor = f"compute.{confs.CONDUCTOR_HOST}"
    comparison = compare(
        streams([update(conductor, None), start()]), streams([start(), update(conductor, None)])
    )
    assert comparison.differences == []
    assert len(comparison.interleaving) == 1


def test_a_notification_naming_no_server_belongs_to_no_stream() -> None:
    found = [update(f"compute.{confs.CONDUCTOR_HOST}", None, server=OTHER)]
    assert streams(found) == {}


def test_api_paste_ini_keeps_nova_pipelines_without_authtoken() -> None:
    text = confs.api_paste_ini()
    assert "authtoken" in (confs.NOVA_ETC / "api-paste.ini").read_text()
    pipelines = [line for line in text.splitlines() if line.startswith("keystone = ")]
    assert pipelines
    for line in pipelines:
        assert "authtoken" not in line
        assert line.split()[-2:][0] in ("keystonecontext", "legacy_v2_compatible")


def test_cell_conductors_compare_equal_whichever_cell_a_server_landed_in() -> None:
    """Which cell's conductor (or the legacy one beside it) saves a server follows from the
    cell it landed in, which varies between runs."""
    cell1 = f"compute.{confs.cell_conductor_host('cell1')}"
    cell2_legacy = f"compute.{confs.legacy_host(confs.cell_conductor_host('cell2'))}"
    comparison = compare(
        streams([update(cell1, None), start()]), streams([update(cell2_legacy, None), start()])
    )
    assert comparison.differences == []
    different = compare(
        streams([update(cell1, None), start()]),
        streams([update(f"compute.{confs.CONDUCTOR_HOST}", None), start()]),
    )
    assert different.differences, "a cell conductor is not the superconductor"
