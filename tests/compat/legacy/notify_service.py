"""Runs under nova 34.0.0's virtualenv: the Service calls that notify, through nova's objects.

mode "direct": nova's objects on the database, so nova itself sends the notifications;
mode "indirect": over RabbitMQ to the conductor under test, which must send them.
Steps: create, a heartbeat (no notification), disable with a reason, enable, forced down,
another heartbeat, a save of forced_down to the value it has (nova notifies: it was set).
Prints the list of steps that succeeded.
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
        ["notify_service", "--config-file", job["config_file"]],
        configure_db=job["mode"] == "direct",
        init_rpc=False,
    )
    objects.register_all()
    rpc.init(config.CONF)
    if job.get("log_file"):  # oslo's log driver's lines, for the other side to compare
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import notification_log

        notification_log.capture(job["log_file"])
    if job["mode"] == "indirect":
        db_api.DISABLE_DB_ACCESS = True
        objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
    ctx = context.get_admin_context()
    svc = objects.Service(ctx, host=job["host"], binary="nova-compute", topic="compute")
    svc.create()

    def save(**changes):
        for name, value in changes.items():
            setattr(svc, name, value)
        svc.save()

    save(report_count=svc.report_count + 1)
    save(disabled=True, disabled_reason="maintenance")
    save(disabled=False, disabled_reason=None)
    save(forced_down=True)
    save(report_count=svc.report_count + 1)
    save(forced_down=True)
    rpc.cleanup()  # the notifier's connection: flushes nothing, sends are synchronous
    print(json.dumps({"steps": 7}))


if __name__ == "__main__":
    main()
