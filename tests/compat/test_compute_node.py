"""ComputeNode(List) against nova 34.0.0's own code, the table after create/save included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "compute_node.py"


def test_compute_nodes_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, ["compute_nodes"])
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["by uuid (new host)"]["error"]["class"] == "ComputeHostNotFound"
    assert steps["create again"]["error"]["class"] == "ObjectActionError"
    claimed = steps["save claim"]["ok"]["primitive"]["nova_object.data"]
    assert claimed["memory_mb_used"] == 1024
    assert claimed["stats"]["num_vm_building"] == "1"
    assert steps["save missing"]["error"]["class"] == "ComputeHostNotFound"
