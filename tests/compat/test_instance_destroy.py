"""Instance.destroy against nova 34.0.0's own code: the result and every table it touches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import VOLATILE, assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_destroy.py"
TABLES = ["instances", "instance_info_caches", "instance_metadata", "instance_system_metadata",
          "instance_extra", "block_device_mapping", "tags", "instance_faults",
          "virtual_interfaces", "migrations", "console_auth_tokens"]  # fmt: skip


def test_instance_destroy_matches_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, TABLES)
    # nova's destroy() ends with `del self.id`; over RPC the conductor only sends fields that
    # are set, so a real nova-conductor leaves the caller's id in place too
    direct = outcome.direct[0]["ok"]["primitive"]["nova_object.data"]
    ours = outcome.ours[0]["ok"]["primitive"]["nova_object.data"]
    assert "id" not in direct
    assert ours.pop("id") == 1
    assert_same_steps(outcome)
    assert_same_tables(outcome, VOLATILE | {"token_hash", "expires"})
    steps = {s["label"]: s for s in outcome.ours}
    assert steps["destroy"]["ok"]["primitive"]["nova_object.data"]["deleted"] is True
    assert steps["missing instance"]["error"]["class"] == "InstanceNotFound"
    assert steps["host changed"]["error"]["kwargs"]["reason"] == "host changed"
    assert steps["never created"]["error"]["kwargs"]["reason"] == "already destroyed"
    tags = outcome.our_tables["tags"]
    assert [row["resource_id"] for row in tags] == ["de222222-2222-4222-8222-222222222222"]
