"""InstanceList.get_by_filters against nova 34.0.0's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import assert_same_steps, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_filters.py"


def _uuids(step: dict[str, object]) -> list[str]:
    objs = step["ok"]["primitive"]["nova_object.data"]["objects"]  # type: ignore[index]
    return [o["nova_object.data"]["uuid"][:2] for o in objs]


def test_get_by_filters_matches_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path)
    assert_same_steps(outcome)
    steps = {s["label"]: s for s in outcome.ours}
    assert _uuids(steps["pending deletes"]) == ["f3"]  # deleted, not yet cleaned
    assert sorted(_uuids(steps["image cache"])) == ["f0", "f1", "f2", "f5"]
    assert _uuids(steps["empty uuid list"]) == []
    assert len(_uuids(steps["limit"])) == 2
    assert _uuids(steps["other project"]) == []
