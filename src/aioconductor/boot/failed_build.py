"""What a failed build writes in the instance's cell (scheduler_utils
`set_vm_state_and_notify`, which the conductor's burial in cell0 and its cleanups call):
the instance saved as ERROR with no task, and an instance fault from the exception
(compute_utils `add_instance_fault_from_exc`). The notifications that go with it are the
caller's (Instance.save's instance.update goes through `notifier`, as the native
Instance.save sends it)."""

from __future__ import annotations

from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.notifications.notifier import NO_NOTIFICATIONS, Notifications
from aioconductor.objects import instance_save
from aioconductor.objects import primitives as p
from aioconductor.objects._instance_build import INSTANCE_VERSION
from aioconductor.objects.registry import InstanceCall

FAULT_MESSAGE_BYTES = 255


async def set_vm_state_error(
    db: Database,
    ctx: RequestContext,
    instance_uuid: str,
    *,
    notifier: Notifications = NO_NOTIFICATIONS,
) -> p.Primitive:
    """`Instance(uuid=..., vm_state=ERROR, task_state=None).save()`: the Instance
    primitive the save leaves (what nova's notifications are built from)."""
    data = {"uuid": instance_uuid, "vm_state": "error", "task_state": None}
    obj = p.ObjectPrimitive("Instance", INSTANCE_VERSION, data, {"vm_state", "task_state"})
    call = InstanceCall(ctx, db, "Instance", {}, notifier=notifier, obj=obj)
    await instance_save.save(call)
    return call.obj.to_wire()


def fault_message(message: str) -> str:
    """`utils.safe_truncate(message, 255)`: at most 255 UTF-8 bytes, whole characters."""
    return message.encode()[:FAULT_MESSAGE_BYTES].decode(errors="ignore")


async def add_instance_fault(
    db: Database, instance_uuid: str, *, code: int, message: str, details: str, host: str | None
) -> int:
    """InstanceFault.create as add_instance_fault_from_exc fills it: `code` the exception's
    (kwargs code, else 500), `message` its formatted message (truncated here), `details`
    the traceback text when the code is 500 (else ""), `host` the conductor's [DEFAULT]
    host. The fault's id."""
    values = {
        "instance_uuid": instance_uuid,
        "code": code,
        "message": fault_message(message),
        "details": details,
        "host": host,
        "created_at": p.utcnow(),
        "deleted": 0,
    }
    return await db.insert_row("instance_faults", values)
