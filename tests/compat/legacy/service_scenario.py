"""Runs under nova 34.0.0's virtualenv: one Service scenario through nova's own objects.

mode "direct": nova's objects on the database (what nova-conductor would do);
mode "indirect": NovaObject.indirection_api = ConductorAPI(), DB access off (nova-compute).
Prints a JSON list: per step the object primitive, a plain value, or the error.
"""

import json
import sys


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc
    from nova.conductor import rpcapi
    from nova.db.main import api as db_api
    from nova.objects import base as objects_base

    config.parse_args(
        ["scenario", "--config-file", job["config_file"]],
        configure_db=job["mode"] == "direct",
        init_rpc=False,
    )
    objects.register_all()
    rpc.init(config.CONF)  # notifications (service.create/update) need the notifier
    if job["mode"] == "indirect":
        db_api.DISABLE_DB_ACCESS = True
        objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
    ctx = context.get_admin_context()
    out = []

    def record(fn):
        try:
            value = fn()
            if hasattr(value, "obj_to_primitive"):
                value = {
                    "primitive": value.obj_to_primitive(),
                    "changed": sorted(value.obj_what_changed()),
                }
            out.append({"ok": value})
        except Exception as exc:
            out.append(
                {
                    "error": {
                        "class": type(exc).__name__.replace("_Remote", ""),
                        "kwargs": getattr(exc, "kwargs", {}),
                    }
                }
            )

    svc = objects.Service(ctx, host="compute1", binary="nova-compute", topic="compute")
    record(lambda: (svc.create(), svc)[1])
    record(lambda: objects.Service.get_by_host_and_binary(ctx, "compute1", "nova-compute"))
    record(lambda: objects.Service.get_by_host_and_binary(ctx, "nohost", "nova-compute"))
    record(lambda: objects.Service.get_by_compute_host(ctx, "compute1"))
    record(lambda: objects.Service.get_by_compute_host(ctx, "nohost"))
    record(lambda: objects.Service.get_minimum_version(ctx, "nova-compute"))
    record(lambda: objects.Service.get_minimum_version(ctx, "nova-scheduler"))
    record(lambda: objects.Service.get_minimum_version(ctx, "bogus"))

    def heartbeat():
        svc.report_count += 1
        svc.save()
        return svc

    record(heartbeat)
    record(heartbeat)

    def disable():
        svc.disabled = True
        svc.disabled_reason = "maintenance"
        svc.save()
        return svc

    record(disable)
    dup = objects.Service(ctx, host="compute1", binary="nova-compute", topic="compute2")
    record(lambda: (dup.create(), dup)[1])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
