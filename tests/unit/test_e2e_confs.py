"""The end-to-end stack's configuration files for several cells and for reschedules (no
services): which vhost, databases and options each service gets."""

from __future__ import annotations

import configparser
from pathlib import Path

from tests.e2e import confs
from tests.e2e.reschedule import BUILD_EVENT, build_event_results


def layout(
    tmp_path: Path, cells: int = 2, reschedule: bool = False, driver: str = "pymysql"
) -> confs.Layout:
    return confs.Layout(
        prefix="p",
        root=tmp_path,
        vhost="api_vhost",
        api_db="p_api",
        cell0_db="p_cell0",
        cells=tuple(
            confs.Cell(f"cell{i}", f"p_cell{i}", f"vhost_cell{i}" if cells > 1 else "api_vhost")
            for i in range(1, cells + 1)
        ),
        placement_db="p_placement",
        api_port=1,
        placement_port=2,
        metrics_port=3,
        reschedule=reschedule,
        conductor_driver=driver,
    )


def parse(text: str) -> configparser.ConfigParser:
    # [DEFAULT] a section like any (oslo.config does not inherit it into the others)
    parser = configparser.ConfigParser(strict=False, interpolation=None, default_section="-")
    parser.read_string(text)
    return parser


def test_computes_are_dealt_to_the_cells_in_turn(tmp_path: Path) -> None:
    two = layout(tmp_path)
    cells = [two.cell_of(confs.compute_host(i)).name for i in range(1, 5)]
    assert cells == ["cell1", "cell2", "cell1", "cell2"]


def test_a_compute_lives_in_its_cell_and_notifies_the_api_level(tmp_path: Path) -> None:
    conf = parse(confs.compute_conf(layout(tmp_path), confs.compute_host(2)))
    assert conf["DEFAULT"]["transport_url"].endswith("/vhost_cell2")
    assert conf["database"]["connection"].endswith("/p_cell2")
    assert not conf.has_section("api_database")
    assert conf["oslo_messaging_notifications"]["transport_url"].endswith("/api_vhost")
    assert conf["filter_scheduler"]["track_instance_changes"] == "false"


def test_superconductor_and_cell_conductor(tmp_path: Path) -> None:
    two = layout(tmp_path)
    sup = parse(confs.aioconductor_conf(two, fallback=False))
    assert sup["DEFAULT"]["host"] == confs.CONDUCTOR_HOST
    assert sup["DEFAULT"]["transport_url"].endswith("/api_vhost")
    assert sup["database"]["connection"].endswith("/p_cell0")
    assert sup["api_database"]["connection"].endswith("/p_api")
    cell = parse(confs.aioconductor_conf(two, fallback=True, cell=two.cells[0]))
    assert cell["DEFAULT"]["host"] == "e2e-conductor-cell1"
    assert cell["DEFAULT"]["transport_url"].endswith("/vhost_cell1")
    assert cell["database"]["connection"].endswith("/p_cell1")
    assert not cell.has_section("api_database")
    assert cell["aioconductor"]["fallback_host"] == "e2e-conductor-cell1-legacy"


def test_one_cell_keeps_a_single_cell_deployment(tmp_path: Path) -> None:
    one = layout(tmp_path, cells=1)
    api = parse(confs.nova_conf(one, confs.API_HOST))
    assert api["database"]["connection"].endswith("/p_cell1")
    assert not api.has_section("workarounds")
    assert "transport_url" not in api["oslo_messaging_notifications"]
    compute = parse(confs.compute_conf(one, confs.compute_host(1)))
    assert compute["DEFAULT"]["transport_url"] == api["DEFAULT"]["transport_url"]


def test_eventlet_conductors_on_mysqlclient_in_every_cell(tmp_path: Path) -> None:
    two = layout(tmp_path, driver="mysqldb")
    sup = parse(confs.eventlet_conductor_conf(two))
    cell = parse(confs.eventlet_conductor_conf(two, two.cells[1]))
    assert sup["DEFAULT"]["host"] == confs.CONDUCTOR_HOST
    assert sup["DEFAULT"]["concurrency_backend"] == "eventlet"
    assert sup["database"]["connection"].startswith("mysql+mysqldb://")
    assert sup["database"]["connection"].endswith("/p_cell0")
    assert sup["api_database"]["connection"].startswith("mysql+mysqldb://")
    assert cell["DEFAULT"]["host"] == "e2e-conductor-cell2"
    assert cell["DEFAULT"]["concurrency_backend"] == "eventlet"
    assert cell["DEFAULT"]["transport_url"].endswith("/vhost_cell2")
    assert cell["database"]["connection"].startswith("mysql+mysqldb://")
    assert cell["database"]["connection"].endswith("/p_cell2")
    assert not cell.has_section("api_database")
    # the other services' own files stay on PyMySQL, in threading mode
    api = parse(confs.nova_conf(two, confs.API_HOST))
    assert api["api_database"]["connection"].startswith("mysql+pymysql://")
    assert "concurrency_backend" not in api["DEFAULT"]


def test_reschedule_makes_the_first_compute_fail_and_be_weighed_first(tmp_path: Path) -> None:
    stack = layout(tmp_path, cells=1, reschedule=True)
    first = parse(confs.compute_conf(stack, confs.RESCHEDULE_HOST))
    other = parse(confs.compute_conf(stack, confs.compute_host(2)))
    scheduler = parse(confs.nova_conf(stack, confs.SCHEDULER_HOST))
    assert first["DEFAULT"]["compute_driver"] == confs.RESCHEDULE_DRIVER
    assert first["compute"]["consecutive_build_service_disable_threshold"] == "0"
    assert other["DEFAULT"]["compute_driver"] == "fake.FakeDriver"
    assert int(other["DEFAULT"]["reserved_host_memory_mb"]) > 0
    assert scheduler["filter_scheduler"]["weight_classes"].endswith(".RAMWeigher")


def test_build_events_by_host() -> None:
    events = [
        {"event": BUILD_EVENT, "host": "e2e-compute-2", "result": None},
        {"event": BUILD_EVENT, "host": "e2e-compute-1", "result": "Success"},
        {"event": "conductor_schedule_and_build_instances", "host": "x", "result": "Success"},
    ]
    assert build_event_results(events) == {"e2e-compute-2": None, "e2e-compute-1": "Success"}
