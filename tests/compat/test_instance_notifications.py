"""Instance.save's compute.instance.update and instance.update, against nova's own code.

The scenario (scenarios/instance_notify.py: state changes, task state only, display name
only, another column, nothing changed, an object without joined fields, a delete and a save
after it) runs through nova's objects on one database, so nova itself notifies, and through
nova's client to `aioconductor serve` on another. Every message on the notification queues
must be equal field by field, except ids, timestamps and audit-period bounds (by form).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.compat.notification_logs import assert_same_lines, serve_lines
from tests.compat.notification_queues import by_shape
from tests.compat.scenario.pair import assert_same_steps, diff, run_pair

pytestmark = [pytest.mark.connected, pytest.mark.compat]

SCENARIO = Path(__file__).with_name("scenarios") / "instance_notify.py"
CASES = {
    # every kind at once: both formats, task states, the 2.0 envelope, BDMs and shares in
    # the payload
    "both-vm_and_task_state-messagingv2": (
        "both", "vm_and_task_state", ["messagingv2"],
        "bdms_in_notifications = true\ninclude_share_mapping = true\n",
    ),
    # ceilometer's classic: legacy only, vm_state changes only, the bare 1.0 body, and the
    # image URL from [glance] api_servers
    "unversioned-vm_state-messaging": (
        "unversioned", "vm_state", ["messaging"], "[glance]\napi_servers = http://glance.test:9292\n",
    ),
    # versioned only on vm_state changes, beside the log driver (which must change nothing
    # on the queues)
    "versioned-vm_state-messagingv2-log": ("versioned", "vm_state", ["messagingv2", "log"], ""),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_instance_update_notifications_match_nova(tmp_path: Path, case: str) -> None:
    fmt, mode, drivers, more = CASES[case]
    tag = uuid.uuid4().hex[:8]
    extra = (
        f"[notifications]\nnotification_format = {fmt}\nnotify_on_state_change = {mode}\n"
        f"versioned_notifications_topics = vn_{tag}\n{more}"
        "[oslo_messaging_notifications]\n"
        + "".join(f"driver = {d}\n" for d in drivers)
        + f"topics = n_{tag}\n"
    )
    queues = [f"vn_{tag}.info", f"n_{tag}.info"]
    outcome = run_pair(SCENARIO, tmp_path, extra_conf=extra, notification_queues=queues)
    assert_same_steps(outcome)
    for queue in queues:
        theirs = outcome.direct_notifications[queue]
        ours = outcome.our_notifications[queue]
        assert [m["body"]["event_type"] for m in ours] == [
            m["body"]["event_type"] for m in theirs
        ], queue
        for n, (mine, nova) in enumerate(zip(ours, theirs, strict=True)):
            have, want = by_shape(mine), by_shape(nova)
            assert have == want, (queue, n, diff(have, want))
    # the log driver: nova's lines and ours, the same text (issue 22)
    ours_logged = serve_lines(outcome.our_log)
    assert_same_lines(ours_logged, outcome.direct_log_lines)
    assert bool(ours_logged) == ("log" in drivers)
    legacy = outcome.direct_notifications[f"n_{tag}.info"]
    versioned = outcome.direct_notifications[f"vn_{tag}.info"]
    # the scenario notifies: neither side may go quiet where the other speaks
    assert (len(legacy) > 0) == (fmt != "versioned")
    assert (len(versioned) > 0) == (fmt != "unversioned")
    image = "c1111111-1111-4111-8111-111111111111"
    urls = {m["body"]["payload"]["image_ref_url"] for m in legacy}
    if "api_servers" in more:
        assert urls == {f"http://glance.test:9292/images/{image}"}
    elif legacy:  # no token: the image id; a token: the catalog's internal endpoint
        assert urls == {image, f"http://glance.int:9292//images/{image}"}
    if "bdms_in_notifications" in more:  # the volume is there, the image disk is not
        devices = versioned[0]["body"]["payload"]["nova_object.data"]["block_devices"]
        assert [d["nova_object.data"]["tag"] for d in devices] == ["data"]
    if "include_share_mapping" in more:
        shares = versioned[0]["body"]["payload"]["nova_object.data"]["shares"]
        assert [s["nova_object.data"]["tag"] for s in shares] == ["shared"]
