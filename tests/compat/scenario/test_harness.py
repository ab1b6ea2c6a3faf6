"""The oracle harness itself: the same reads through nova's objects and through us agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]


def test_example_scenario_agrees(tmp_path: Path) -> None:
    outcome = run_pair(Path(__file__).with_name("example_scenario.py"), tmp_path, ["instances"])
    assert_same_steps(outcome)
    assert outcome.ours[0]["ok"]["primitive"]["nova_object.name"] == "InstanceList"
    assert outcome.ours[2]["error"]["class"] == "InstanceNotFound"
    assert len(outcome.our_tables["instances"]) == 1
