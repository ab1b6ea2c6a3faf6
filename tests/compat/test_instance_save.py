"""Instance.save and InstanceInfoCache.save against nova 34.0.0's own code: results, the
conflict errors and every table they write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import (
    Outcome,
    assert_same_steps,
    assert_same_tables,
    run_pair,
)

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_save.py"
TABLES = ["instances", "instance_extra", "instance_system_metadata", "instance_metadata",
          "instance_info_caches"]  # fmt: skip


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One run of the scenario through aioconductor and through nova's own code."""
    return run_pair(SCENARIO, tmp_path_factory.mktemp("instance_save"), TABLES)


def test_instance_saves_match_nova(outcome: Outcome) -> None:
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["conflict"]["error"]["class"] == "UnexpectedTaskStateError"
    assert steps["conflict after extra values"]["error"]["class"] == "UnexpectedTaskStateError"
    extra = {row["instance_uuid"]: row for row in outcome.our_tables["instance_extra"]}
    devices = extra["5a111111-1111-4111-8111-111111111111"]["device_metadata"]
    assert devices["nova_object.data"]["devices"][0]["nova_object.data"]["tags"] == ["conflict"]
    assert steps["deleting conflict"]["error"]["class"] == "UnexpectedDeletingTaskStateError"
    assert steps["node without compute_id"]["error"]["class"] == "ObjectActionError"
    assert steps["missing instance"]["error"]["class"] == "InstanceNotFound"
    # retried on a fresh snapshot, as nova does, instead of UnknownInstanceUpdateConflict
    racing = steps["racing delete"]["error"]
    assert racing["class"] == "UnexpectedDeletingTaskStateError"
    assert racing["kwargs"]["actual"] == {"task_state": "deleting"}
    assert "the row changed meanwhile; retrying in 1 s" in outcome.our_log
    read_back = steps["extra values read back"]["ok"]["primitive"]["nova_object.data"]
    assert read_back["vcpu_model"]["nova_object.data"]["model"] == "Haswell"
    assert read_back["device_metadata"]["nova_object.data"]["devices"] == []
    active = steps["active"]["ok"]["primitive"]["nova_object.data"]
    assert (active["vm_state"], active["task_state"], active["host"]) == ("active", None, "h1")


def test_vm_state_expectations_and_project_scoping_match_nova(outcome: Outcome) -> None:
    steps = {s["label"]: s for s in outcome.ours}
    conflict = steps["vm_state conflict"]["error"]
    assert conflict["class"] == "InstanceUpdateConflict"
    assert "vm_state" in conflict["kwargs"]["actual"]
    # with both wrong, nova names the task state
    assert steps["task_state and vm_state conflict"]["error"]["class"] == (
        "UnexpectedTaskStateError"
    )
    held = steps["vm_state and task_state hold"]["ok"]["primitive"]["nova_object.data"]
    assert held["power_state"] == 4
    assert steps["stranger reads"]["error"]["class"] == "InstanceNotFound"
    assert steps["stranger saves"]["error"]["class"] == "InstanceNotFound"
    renamed = steps["owner saves"]["ok"]["primitive"]["nova_object.data"]
    assert renamed["display_name"] == "renamed by its owner"
    rows = {row["uuid"]: row for row in outcome.our_tables["instances"]}
    assert rows["5a111111-1111-4111-8111-111111111111"]["display_name"] == "renamed by its owner"
