"""The quorum-queue cluster fault (issue 24), held to the same bar as tests/fault/test_faults.py:
`rabbit_quorum_queue = true`, three RabbitMQ nodes named in one transport_url, the node leading
the `conductor` queue stopped under load (stop_app, or its VM killed; the conductor connected
to it, or to a follower) and started again.
nova-conductor 34.0.0 runs first and sets the bar for calls left unanswered.

A run boots its own three-node cluster (about 45 s on 2 busy cores) and the scenario takes
about 80 s more, so it is part of the full tier only: AIOC_FAULT_FULL=1 here (6 runs, about
15 min), or scripts/fault-tier --full --only quorum."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.fault.audit import assert_meets_target
from tests.fault.lab import Lab
from tests.fault.quorum import stop_leader_under_load

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not os.environ.get("AIOC_FAULT_FULL"),
        reason="full fault tier only (AIOC_FAULT_FULL=1): a three-node cluster per run",
    ),
]

# how the leader goes -> stop_leader_under_load's options
FAULTS: dict[str, dict[str, bool]] = {
    "stop_app": {},
    "kill -9": {"crash": True},
    "stop_app, conductor on a follower": {"on_follower": True},
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", ["nova-conductor", "aioconductor"])
def test_quorum_leader_stopped(
    lab: Lab, results: dict[tuple[str, str], Any], kind: str, fault: str
) -> None:
    scenario = f"quorum queue leader, {fault}"
    outcome = stop_leader_under_load(lab, kind, **FAULTS[fault])
    results[(scenario, kind)] = outcome
    print(f"{kind} / {scenario}: {outcome.as_dict()}")
    assert_meets_target(outcome, kind, results.get((scenario, "nova-conductor")))
