"""Names requests for logs and metrics: `Service.save`, `baseapi.ping`, `compute_task.X`."""

from __future__ import annotations

from aioconductor.messaging.envelope import RpcRequest


def describe(request: RpcRequest) -> str:
    args = request.args
    if request.namespace is None and request.method == "object_class_action_versions":
        return f"{args.get('objname')}.{args.get('objmethod')}"
    if request.namespace is None and request.method == "object_action":
        objinst = args.get("objinst")
        name = objinst.get("nova_object.name") if isinstance(objinst, dict) else None
        return f"{name}.{args.get('objmethod')}"
    if request.namespace:
        return f"{request.namespace}.{request.method}"
    return request.method
