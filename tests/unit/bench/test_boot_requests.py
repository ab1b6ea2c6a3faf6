"""The bootrequests workload's pure parts: the pool copied from nova's one request, the
ledger that accounts for every cast, and the scheduler stand-in's choice of hosts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from aioconductor.bench.boot_ledger import Ledger
from aioconductor.bench.boot_pool import (
    BOOT_TABLES,
    BootIdentity,
    BootTemplate,
    identities,
    instance_uuid_of,
)
from aioconductor.bench.boot_run import boot_conf
from aioconductor.bench.boot_scheduler import Chooser, request_of
from aioconductor.bench.report import boot_figures, boot_summary, markdown
from aioconductor.bench.stats import RunResult
from aioconductor.bench.targets import DatabaseAddress, _conf, conf_driver, target_spec

MINE = BootIdentity(
    index=0,
    uuid="0b5e1c9a-7a3e-4c1d-9f5b-2f6c8e1d3a4b",
    request_id="req-5d0c2b7e-1f4a-4e8b-a6c3-9d2e7f1b0a5c",
    reservation_id="r-q7x2m9kd",
    project_id="6c1f0e9d8b7a4c3e2d1f0a9b8c7d6e5f",
)
USER = "b0075e2d1c3f4a5b8c9d0e1f2a3b4c5d"


def _obj(name: str, **data: Any) -> dict[str, Any]:
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": "1.0", "nova_object.data": data}  # fmt: skip


def _recorded_cast() -> dict[str, Any]:
    """Shaped as nova_side/boot_request.py records nova-api's cast."""
    instance = _obj(
        "Instance", uuid=MINE.uuid, project_id=MINE.project_id, user_id=USER,
        reservation_id=MINE.reservation_id, display_name="bench",
        info_cache=_obj("InstanceInfoCache", instance_uuid=MINE.uuid, network_info="[]"),
    )  # fmt: skip
    return {
        "topic": "conductor",
        "server": None,
        "context": {"request_id": MINE.request_id, "project_id": MINE.project_id,
                    "project": MINE.project_id, "user_id": USER, "is_admin": False},
        "message": {
            "method": "schedule_and_build_instances",
            "args": {
                "build_requests": [_obj("BuildRequest", id=1, instance_uuid=MINE.uuid,
                                        project_id=MINE.project_id, instance=instance)],
                "request_specs": [_obj("RequestSpec", id=1, instance_uuid=MINE.uuid,
                                       project_id=MINE.project_id, num_instances=1)],
                "image": {"id": "155d900f-4e14-4e4c-a73d-069cbf4541e6"},
                "admin_password": "secret",
                "block_device_mapping": _obj("BlockDeviceMappingList", objects=[
                    _obj("BlockDeviceMapping", instance_uuid=MINE.uuid, boot_index=0)]),
            },
            "namespace": "compute_task",
            "version": "1.17",
        },
    }  # fmt: skip


def _rows() -> dict[str, dict[str, Any]]:
    spec = json.dumps(_obj("RequestSpec", instance_uuid=MINE.uuid, project_id=MINE.project_id))
    return {
        "request_specs": {"id": 1, "created_at": "2026-12-06 01:58:38",
                          "instance_uuid": MINE.uuid, "spec": spec},
        "build_requests": {"id": 1, "project_id": MINE.project_id, "instance_uuid": MINE.uuid,
                           "instance": json.dumps(_obj("Instance", uuid=MINE.uuid,
                                                       reservation_id=MINE.reservation_id)),
                           "block_device_mappings": "{}", "tags": None},
        "instance_mappings": {"id": 1, "instance_uuid": MINE.uuid, "cell_id": None,
                              "project_id": MINE.project_id, "user_id": USER,
                              "queued_for_delete": 0},
    }  # fmt: skip


def _template() -> BootTemplate:
    return BootTemplate.from_recording(MINE, _recorded_cast(), _rows())


def test_identities_are_unique_and_dealt_to_projects() -> None:
    boots = identities(50, ["p1", "p2", "p3"], seed=7)
    assert len({b.uuid for b in boots}) == 50
    assert len({b.request_id for b in boots}) == 50
    assert len({b.reservation_id for b in boots}) == 50
    assert [b.project_id for b in boots[:4]] == ["p1", "p2", "p3", "p1"]
    assert [b.row_id for b in boots[:3]] == [1, 2, 3]
    assert all(b.request_id.startswith("req-") and b.reservation_id.startswith("r-")
               for b in boots)  # fmt: skip
    assert identities(5, ["p"], seed=7) == identities(5, ["p"], seed=7)
    with pytest.raises(ValueError):
        identities(1, [])


def test_a_cast_is_nova_s_with_the_boot_s_identifiers() -> None:
    boot = identities(3, ["f" * 32], seed=1)[2]
    body = _template().cast_body(boot, unique_id="u" * 32)
    envelope = json.loads(body)
    assert envelope["oslo.version"] == "2.0"
    inner = json.loads(envelope["oslo.message"])
    text = envelope["oslo.message"]
    for old in (MINE.uuid, MINE.request_id, MINE.reservation_id, MINE.project_id):
        assert old not in text
    assert inner["method"] == "schedule_and_build_instances"
    assert inner["namespace"] == "compute_task"
    assert inner["version"] == "1.17"
    assert inner["_unique_id"] == "u" * 32
    assert "_msg_id" not in inner
    assert "_reply_q" not in inner
    assert inner["_context_request_id"] == boot.request_id
    assert inner["_context_project_id"] == boot.project_id
    assert inner["_context_user_id"] == USER  # not swapped: one user
    (build_request,) = inner["args"]["build_requests"]
    data = build_request["nova_object.data"]
    assert data["id"] == 3
    assert data["instance_uuid"] == boot.uuid
    assert data["instance"]["nova_object.data"]["uuid"] == boot.uuid
    assert data["instance"]["nova_object.data"]["reservation_id"] == boot.reservation_id
    info = data["instance"]["nova_object.data"]["info_cache"]["nova_object.data"]
    assert info["instance_uuid"] == boot.uuid
    assert inner["args"]["request_specs"][0]["nova_object.data"]["id"] == 3
    assert inner["args"]["image"] == {"id": "155d900f-4e14-4e4c-a73d-069cbf4541e6"}
    # everything else is nova's own: swapping back gives the recording
    back = text
    for old, new in ((boot.uuid, MINE.uuid), (boot.request_id, MINE.request_id),
                     (boot.reservation_id, MINE.reservation_id),
                     (boot.project_id, MINE.project_id)):  # fmt: skip
        back = back.replace(old, new)
    again = json.loads(back)
    recorded = _recorded_cast()
    assert again["args"]["build_requests"][0]["nova_object.data"].pop("id") == 3
    recorded["message"]["args"]["build_requests"][0]["nova_object.data"].pop("id")
    assert again["args"]["request_specs"][0]["nova_object.data"].pop("id") == 3
    recorded["message"]["args"]["request_specs"][0]["nova_object.data"].pop("id")
    assert again["args"] == recorded["message"]["args"]


def test_each_cast_gets_a_unique_id_of_its_own() -> None:
    boot = identities(1, ["p" * 32], seed=1)[0]
    template = _template()
    ids = {json.loads(json.loads(template.cast_body(boot))["oslo.message"])["_unique_id"]
           for _ in range(3)}  # fmt: skip
    assert len(ids) == 3


def test_rows_are_the_template_s_with_the_boot_s_identifiers() -> None:
    boots = identities(2, ["a" * 32], seed=3)
    template = _template()
    assert set(template.rows) == set(BOOT_TABLES)
    spec = template.row("request_specs", boots[1])
    assert spec["id"] == 2
    assert spec["instance_uuid"] == boots[1].uuid
    assert json.loads(spec["spec"])["nova_object.data"]["instance_uuid"] == boots[1].uuid
    assert spec["created_at"] == "2026-12-06 01:58:38"
    build = template.row("build_requests", boots[1])
    assert build["project_id"] == boots[1].project_id
    assert build["tags"] is None
    assert boots[1].reservation_id in build["instance"]
    mapping = template.row("instance_mappings", boots[1])
    assert mapping == {"id": 2, "instance_uuid": boots[1].uuid, "cell_id": None,
                       "project_id": "a" * 32, "user_id": USER, "queued_for_delete": 0}  # fmt: skip
    assert [r["id"] for r in template.rows_of("instance_mappings", boots)] == [1, 2]


def test_only_a_single_instance_boot_request_makes_a_template() -> None:
    cast = _recorded_cast()
    cast["message"]["method"] = "build_instances"
    with pytest.raises(ValueError, match="not a boot request"):
        BootTemplate.from_recording(MINE, cast, _rows())
    cast = _recorded_cast()
    args = cast["message"]["args"]
    args["build_requests"] = args["build_requests"] * 2
    with pytest.raises(ValueError):
        BootTemplate.from_recording(MINE, cast, _rows())
    rows = _rows()
    del rows["instance_mappings"]
    with pytest.raises(ValueError, match="instance_mappings"):
        BootTemplate.from_recording(MINE, _recorded_cast(), rows)


def test_the_compute_cast_names_its_instance() -> None:
    inner = {"method": "build_and_run_instance", "args": {"instance": _obj("Instance", uuid="x")}}
    body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()
    assert instance_uuid_of(body) == ("build_and_run_instance", "x")
    assert instance_uuid_of(json.dumps({"method": "m", "args": {}}).encode()) == ("m", "")


def test_the_ledger_accounts_for_every_cast() -> None:
    async def scenario() -> None:
        ledger = Ledger()
        first = ledger.sent("a", 10.0)
        second = ledger.sent("b", 11.0)
        with pytest.raises(ValueError):
            _ = ledger.sent("a", 12.0)
        ledger.arrived("build_and_run_instance", "a", "compute-1", 10.25)
        assert await first == pytest.approx(0.25)
        assert ledger.missing() == ["b"]
        assert ledger.problems() == ["1 boots without a compute cast (e.g. b)"]
        ledger.arrived("build_and_run_instance", "b", "compute-2", 11.5)
        assert await second == pytest.approx(0.5)
        assert ledger.problems() == []
        ledger.arrived("build_and_run_instance", "a", "compute-1", 13.0)
        ledger.arrived("build_and_run_instance", "zzz", "compute-1", 13.0)
        ledger.arrived("prep_resize", "a", "compute-1", 13.0)
        assert ledger.problems() == [
            "1 compute casts for instances never sent",
            "1 second compute casts for one instance",
            "unexpected compute casts: {'prep_resize': 1}",
        ]
        assert ledger.hosts == {"compute-1": 1, "compute-2": 1}
        mark = ledger.mark()
        third = ledger.sent("c", 14.0)
        assert ledger.problems(["c"], since=mark) == ["1 boots without a compute cast (e.g. c)"]
        assert ledger.problems(["a", "b"], since=mark) == []
        ledger.arrived("build_and_run_instance", "c", "compute-3", 14.1)
        ledger.arrived("build_and_run_instance", "c", "compute-3", 14.2)
        assert await third == pytest.approx(0.1)
        assert ledger.problems(["c"], since=mark) == ["1 second compute casts for one instance"]
        assert ledger.arrived_at["a"] == 10.25  # the second cast does not move the first

    asyncio.run(scenario())


def test_the_scheduler_deals_hosts_round_robin_with_alternates() -> None:
    chooser = Chooser({"h1": {"s": 1}, "h2": {"s": 2}, "h3": {"s": 3}}, offset=1, alternates=1)
    answer = chooser.answer({"instance_uuids": ["u1", "u2"], "return_alternates": True})
    assert answer == [[{"s": 2}, {"s": 3}], [{"s": 3}, {"s": 1}]]
    assert chooser.answer({"instance_uuids": ["u3"], "return_alternates": False}) == [[{"s": 1}]]
    lonely = Chooser({"h1": {"s": 1}}, offset=0, alternates=2)
    assert lonely.answer({"instance_uuids": ["u"], "return_alternates": True}) == [[{"s": 1}]]
    with pytest.raises(ValueError):
        Chooser({}, 0, 1)


def test_the_scheduler_reads_oslo_s_envelope() -> None:
    inner = {"method": "select_destinations", "_msg_id": "m", "_reply_q": "reply_x"}
    body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()
    assert request_of(body) == inner


def test_a_boot_serving_target_reads_the_api_database_and_unlimited_quotas() -> None:
    for name, driver in (("aioconductor-1w", "pymysql"), ("nova-threading-1w", "pymysql"),
                         ("nova-eventlet-mysqldb-1w", "mysqldb")):  # fmt: skip
        spec = target_spec(name)
        assert conf_driver(spec) == driver
        extra = boot_conf(spec.kind, DatabaseAddress("api_x").url(driver))
        text = _conf(spec, "ex", DatabaseAddress("cell_x"), "rabbit://h/v", extra=extra)
        assert f"connection = mysql+{driver}://root@127.0.0.1:3306/api_x\n" in text
        assert f"connection = mysql+{driver}://root@127.0.0.1:3306/cell_x\n" in text
        assert "[quota]\ninstances = -1\ncores = -1\nram = -1\n" in text
        assert text.count("[placement]") == 1  # both need one; nova's comes with every target
        assert "transport_url = rabbit://h/v\n" in text


def _row(target: str, n: int, calls: int, p50: float, cpu: float) -> RunResult:
    return RunResult(
        target=target, workload="bootrequests", concurrency=n, calls=calls, errors=0,
        seconds=10.0, p50_ms=p50, p95_ms=p50 * 2, p99_ms=p50 * 3, rpc_per_s=calls / 10,
        target_cpu_ms_per_rpc=cpu, target_rss_mb=100.0, loadgen_cpu_ms_per_rpc=0.5,
    )  # fmt: skip


def test_the_report_sets_each_target_against_nova_on_cpu_and_flatness() -> None:
    results = [
        _row("aioconductor-1w", 1, 100, 10.0, 12.0),
        _row("aioconductor-1w", 40, 300, 15.0, 8.0),
        _row("nova-threading-1w", 1, 50, 70.0, 60.0),
        _row("nova-threading-1w", 40, 0, 0.0, 0.0),  # no boots: left out
        _row("nova-threading-1w", 10, 150, 650.0, 70.0),
    ]
    figures = {f.target: f for f in boot_figures(results)}
    ours, nova = figures["aioconductor-1w"], figures["nova-threading-1w"]
    assert ours.boots == 400
    assert ours.cpu_ms_per_boot == pytest.approx(9.0)  # weighted by boots
    assert (ours.lowest, ours.highest) == ((1, 10.0), (40, 15.0))
    assert nova.cpu_ms_per_boot == pytest.approx(67.5)
    assert nova.highest == (10, 650.0)
    text = markdown(results)
    assert "| target | boots | CPU ms/boot | CPU vs nova-threading-1w |" in text
    assert "| aioconductor-1w | 400 | 9 | 0.13 | 10 ms (N=1) | 15 ms (N=40) | 1.50 |" in text
    assert boot_summary([_row("x", 1, 0, 0.0, 0.0)]) == ""
