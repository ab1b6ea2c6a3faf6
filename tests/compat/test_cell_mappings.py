"""CellMapping, CellMappingList, HostMapping and InstanceMapping against nova 34.0.0's own
objects, each side on its own `nova-manage api_db sync` database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "cell_mappings.py"


def test_cell_host_and_instance_mappings_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, api_database=True, cell_schema=False)
    assert_same_steps(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    cells = steps["all cells"]["ok"]["primitive"]["nova_object.data"]["objects"]
    # templates filled from aioconductor's own nova.conf, as nova-conductor fills them
    cell1 = cells[1]["nova_object.data"]
    assert cell1["transport_url"].startswith("rabbit://")
    assert "{" not in cell1["transport_url"]
    assert cells[0]["nova_object.data"]["database_connection"].startswith("mysql+pymysql://root@")
    assert [c["nova_object.data"]["uuid"][:2] for c in cells] == ["00", "c1", "c2", "c3"]
    enabled = steps["enabled cells"]["ok"]["primitive"]["nova_object.data"]["objects"]
    assert len(enabled) == 2  # cell2 is disabled, cell3's NULL is in neither list
    assert steps["unmapped host"]["error"]["class"] == "HostMappingNotFound"
    assert "not served natively" not in outcome.our_log
