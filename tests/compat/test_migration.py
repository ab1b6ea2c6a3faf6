"""MigrationList against nova 34.0.0's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "migration.py"


def test_migration_lists_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path)
    assert_same_steps(outcome)
    steps = {s["label"]: s["ok"] for s in outcome.ours}
    statuses = [m["primitive"]["nova_object.data"]["status"] for m in steps["rt h1/n1"]]
    assert statuses == ["migrating", "post-migrating", "error", "accepted", "error"]
    assert len(steps["evacuations"]) == 2  # the soft-deleted 'done' one too (read_deleted=yes)
    in_progress = [m["primitive"]["nova_object.data"]["status"] for m in steps["in progress h1/n1"]]
    assert in_progress == ["migrating", "post-migrating", "accepted"]  # no 'error' ones
    assert "not served natively" not in outcome.our_log
