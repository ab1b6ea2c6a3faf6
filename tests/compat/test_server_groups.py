"""InstanceGroup's lookups and get_hosts against nova 34.0.0's own objects, the groups on
`nova-manage api_db sync` databases and their members' instances on `db sync` ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "server_groups.py"


def test_instance_group_lookups_and_hosts_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, api_database=True)
    assert_same_steps(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    group = steps["by uuid, a rule"]["ok"]["primitive"]["nova_object.data"]
    assert group["policy"] == "anti-affinity"
    assert group["_rules"] == {"max_server_per_host": "2"}
    assert len(steps["by uuid"]["ok"]["primitive"]["nova_object.data"]["members"]) == 7
    assert steps["user: other project's group"]["error"]["class"] == "InstanceGroupNotFound"
    assert steps["hosts"]["ok"] == ["h1", "h2", "h4"]  # deleted and soft-deleted ones not
    assert steps["hosts, the user's projects only"]["ok"] == ["h1", "h2"]
    assert "not served natively" not in outcome.our_log
