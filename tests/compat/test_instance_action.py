"""InstanceAction, InstanceActionEvent and InstanceFault against nova 34.0.0's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_action.py"


def test_action_events_and_faults_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(
        SCENARIO, tmp_path, ["instance_actions", "instance_actions_events", "instance_faults"]
    )
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["finish failure"]["ok"]["primitive"]["nova_object.data"]["result"] == "Error"
    assert steps["finish unknown event"]["error"]["class"] == "InstanceActionEventNotFound"
    assert steps["start unknown request"]["error"]["class"] == "InstanceActionNotFound"
    assert steps["fault create again"]["error"]["class"] == "ObjectActionError"
    assert len(outcome.our_tables["instance_actions_events"]) == 3
