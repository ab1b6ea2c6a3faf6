"""InstanceAction / InstanceActionEvent / InstanceFault as nova-compute's EventReporter and
wrap_instance_fault use them (runs in nova's virtualenv)."""

import datetime

U1 = "a1111111-1111-4111-8111-111111111111"
U2 = "a2222222-2222-4222-8222-222222222222"
REQ = "req-11111111-1111-4111-8111-111111111111"
STAMP = datetime.datetime(2026, 1, 2, 3, 4, 5)


def _ctx(request_id=REQ, project_id="p1"):
    from nova import context

    return context.RequestContext(
        user_id="u1", project_id=project_id, is_admin=True, request_id=request_id,
        timestamp=STAMP,
    )  # fmt: skip


def seed(ctx, objects):
    for uuid in (U1, U2):
        objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1", host="h1", node="n1",
                         compute_id=1, vm_state="building", power_state=0, memory_mb=512,
                         vcpus=1).create()  # fmt: skip
    objects.InstanceAction.action_start(_ctx("req-seed"), U2, "create")


def run(ctx, objects, step):
    from nova import exception

    c = _ctx()
    ev = objects.InstanceActionEvent
    step("action_start", lambda: objects.InstanceAction.action_start(c, U1, "create"))
    step("action_start quiet", lambda: objects.InstanceAction.action_start(
        _ctx("req-quiet"), U1, "reboot", want_result=False))  # fmt: skip
    step("event_start", lambda: ev.event_start(c, U1, "compute__build", host="h1"))
    step("event_start quiet", lambda: ev.event_start(c, U1, "compute_ev2", want_result=False,
                                                     host="h1"))  # fmt: skip
    step("finish success", lambda: ev.event_finish_with_failure(
        c, U1, "compute__build", exc_val=None, exc_tb=None, want_result=True))  # fmt: skip
    step("finish failure", lambda: ev.event_finish_with_failure(
        c, U1, "compute_ev2", exc_val=exception.InstanceNotFound(instance_id=U1),
        exc_tb="Traceback (most recent call last):\n  boom\n", want_result=True))  # fmt: skip
    step("finish quiet", lambda: ev.event_finish_with_failure(
        c, U1, "compute__build", exc_val=None, exc_tb=None, want_result=False))  # fmt: skip
    step("event_finish", lambda: ev.event_finish(c, U1, "compute__build"))
    step("finish unknown event", lambda: ev.event_finish(c, U1, "nope"))
    step("start unknown request", lambda: ev.event_start(_ctx("req-unknown"), U1, "x"))
    # a service context (no project) after a restart: the instance's newest action is used
    step("start after restart", lambda: ev.event_start(
        _ctx("req-restart", project_id=None), U2, "compute_power_on", host="h1"))  # fmt: skip
    step("finish after restart", lambda: ev.event_finish_with_failure(
        _ctx("req-restart", project_id=None), U2, "compute_power_on", exc_val="failed",
        exc_tb="tb", want_result=True))  # fmt: skip
    step("action_finish", lambda: objects.InstanceAction.action_finish(c, U1))
    step("action_finish unknown", lambda: objects.InstanceAction.action_finish(
        _ctx("req-unknown"), U1))  # fmt: skip
    step("get_by_request_id", lambda: objects.InstanceAction.get_by_request_id(c, U1, REQ))
    step("get_by_request_id none", lambda: objects.InstanceAction.get_by_request_id(
        c, U1, "req-none"))  # fmt: skip

    fault = objects.InstanceFault(c, instance_uuid=U1, code=404, message="Instance gone",
                                  details="Traceback ...", host="h1")  # fmt: skip

    def create_fault():
        fault.create()
        return fault

    step("fault create", create_fault)
    step("fault create again", create_fault)
