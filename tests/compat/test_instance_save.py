"""Instance.save and InstanceInfoCache.save against nova 34.0.0's own code: results, the
conflict errors and every table they write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_save.py"
TABLES = ["instances", "instance_extra", "instance_system_metadata", "instance_metadata",
          "instance_info_caches"]  # fmt: skip


def test_instance_saves_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, TABLES)
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["conflict"]["error"]["class"] == "UnexpectedTaskStateError"
    assert steps["deleting conflict"]["error"]["class"] == "UnexpectedDeletingTaskStateError"
    assert steps["node without compute_id"]["error"]["class"] == "ObjectActionError"
    assert steps["missing instance"]["error"]["class"] == "InstanceNotFound"
    active = steps["active"]["ok"]["primitive"]["nova_object.data"]
    assert (active["vm_state"], active["task_state"], active["host"]) == ("active", None, "h1")
