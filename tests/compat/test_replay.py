"""A whole boot (22 calls) and delete (12 calls) as nova-compute makes them, through nova's own
client against aioconductor, compared call by call and table by table with nova's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "replay_boot_delete.py"
TABLES = ["instances", "instance_extra", "instance_system_metadata", "instance_info_caches",
          "block_device_mapping", "virtual_interfaces", "compute_nodes", "instance_actions",
          "instance_actions_events"]  # fmt: skip


def test_boot_and_delete_replay_matches_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, TABLES)
    assert len(outcome.ours) == 34
    # nova's destroy() drops `id` locally; over RPC the caller keeps it (test_instance_destroy)
    outcome.ours[32]["ok"]["primitive"]["nova_object.data"].pop("id")
    assert_same_steps(outcome)
    assert_same_tables(outcome)
    failures = [s["label"] for s in outcome.ours if "error" in s]
    assert failures == []
    # every call was served here: nothing was forwarded or refused
    assert "not served natively" not in outcome.our_log
