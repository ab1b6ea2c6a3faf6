"""VirtualInterface(List) against nova 34.0.0's own code, the table included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "virtual_interface.py"


def test_virtual_interfaces_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, ["virtual_interfaces"])
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["create duplicate address"]["error"]["class"] == "VirtualInterfaceCreateException"
    assert len(steps["list"]["ok"]["primitive"]["nova_object.data"]["objects"]) == 2
    assert steps["list after delete"]["ok"]["primitive"]["nova_object.data"]["objects"] == []
    assert all(row["deleted"] == row["id"] for row in outcome.our_tables["virtual_interfaces"])
