"""InstanceFault.create: recorded by `wrap_instance_fault` whenever a compute operation fails."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from aioconductor.conductor.endpoints import not_native
from aioconductor.errors import ObjectActionError
from aioconductor.objects import primitives as p
from aioconductor.objects.registry import InstanceCall, remotable

VERSION = "1.2"
_FIELDS = ("instance_uuid", "code", "message", "details", "host")


@remotable("InstanceFault", "create")
async def create(call: InstanceCall) -> None:
    obj = call.obj
    if obj.version != VERSION:
        raise not_native(f"InstanceFault.create at {obj.version}")
    if "id" in obj.data:
        raise ObjectActionError(action="create", reason="already created")
    missing = [name for name in _FIELDS if name not in obj.data]
    if missing:  # nova: NotImplementedError("Cannot load '...' in the base class")
        raise not_native(f"InstanceFault.create without {', '.join(missing)}")
    now = p.utcnow()
    values: dict[str, Any] = {name: obj.data[name] for name in _FIELDS}
    values.update(created_at=now, deleted=0)

    try:
        fault_id = await call.db.insert_row("instance_faults", values)
    except IntegrityError:  # the instance is gone: nova's DBReferenceError is not ours to fake
        raise not_native("InstanceFault.create for an unknown instance") from None
    data: dict[str, Any] = {name: values[name] for name in _FIELDS}
    data.update(
        id=fault_id,
        created_at=p.dt_to_wire(now),
        updated_at=None,
        deleted_at=None,
        deleted=False,
    )
    call.load_row(data)
