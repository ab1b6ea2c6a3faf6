"""BlockDeviceMapping(List) against nova 34.0.0's own code, reads and saves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "block_device.py"


def test_block_device_mappings_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, ["block_device_mapping"])
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    listed = steps["by instances"]["ok"]["primitive"]["nova_object.data"]["objects"]
    assert len(listed) == 3
    saved = steps["save root name"]["ok"]["primitive"]["nova_object.data"]
    assert saved["device_name"] == "/dev/vda"
    assert steps["save missing"]["error"]["class"] == "BDMNotFound"
    assert steps["save instance changed"]["error"]["class"] == "ObjectActionError"
