"""BuildRequest.get_new_instance: the Instance a build request becomes in a cell.

nova copies every field set on the build request's instance (except `tags`, which
Instance.create cannot write) onto a fresh Instance with setattr, so every copied field is
a change; nested objects are the same objects, with whatever changes they carry once hydrated
(a Flavor's extra_specs, see hydrated_flavor).
"""

from __future__ import annotations

from aioconductor.conductor.endpoints import not_native
from aioconductor.objects import primitives as p
from aioconductor.objects._instance_build import INSTANCE_VERSION, hydrated_flavor

BUILD_REQUEST_VERSION = "1.3"


def new_instance(build_request: p.Primitive) -> p.Primitive:
    """The Instance primitive nova's `build_request.get_new_instance(ctx)` gives."""
    request = p.ObjectPrimitive.from_wire(build_request)
    if request.name != "BuildRequest":
        raise not_native(f"{request.name} as a build request")
    instance = request.data.get("instance")
    if not p.is_object(instance):
        # nova's BuildRequest would not have loaded (BuildRequestNotFound on the API side)
        raise not_native("BuildRequest without an instance")
    source = p.ObjectPrimitive.from_wire(instance)
    if source.version != INSTANCE_VERSION:
        # hydrating an older Instance and copying it onto a 2.8 one is ovo's business
        raise not_native(f"BuildRequest with an Instance {source.version}")
    data = {name: value for name, value in source.data.items() if name != "tags"}
    for name in ("flavor", "old_flavor", "new_flavor"):
        if p.is_object(data.get(name)):
            data[name] = hydrated_flavor(dict(data[name]))
    return p.make("Instance", INSTANCE_VERSION, data, set(data))
