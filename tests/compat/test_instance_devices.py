"""ShareMappingList, PciDeviceList, ResourceList and the ConsoleAuthToken cleaners against
nova 34.0.0's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compat.scenario.pair import VOLATILE, assert_same_steps, assert_same_tables, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_devices.py"


def test_device_lists_and_token_cleaners_match_nova(tmp_path: Path) -> None:
    outcome = run_pair(SCENARIO, tmp_path, ["console_auth_tokens"])
    assert_same_steps(outcome)
    # tokens are random and expiries are per run: compare which rows are left
    assert_same_tables(outcome, VOLATILE | {"token_hash", "expires", "id"})
    steps = {s["label"]: s for s in outcome.ours}
    assert len(steps["pci by node"]["ok"]["primitive"]["nova_object.data"]["objects"]) == 3
    assert len(steps["pci by instance"]["ok"]["primitive"]["nova_object.data"]["objects"]) == 1
    resources = steps["resources"]["ok"]["primitive"]["nova_object.data"]["objects"]
    assert resources[0]["nova_object.data"]["identifier"] == "ns_0"
    # the expired tokens went, then all of U1's: only U2's live token is left
    assert [row["instance_uuid"] for row in outcome.our_tables["console_auth_tokens"]] == [
        "c7222222-2222-4222-8222-222222222222"
    ]
