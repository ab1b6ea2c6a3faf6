"""Runs under nova 34.0.0's virtualenv: the delete notifications nova-conductor sends for a
server deleted while it was being scheduled, sent by nova itself.

nova-api's request (the bench's nova_api_boot.provision: request spec, build request,
instance mapping in the API database) becomes the instance the conductor creates in its cell
(`build_request.get_new_instance`, the host's availability zone, `instance.create()`, its
BDMs), once in our cell database (for the other side: nothing is sent) and once in nova's;
there `_delete_build_request` destroys it inside `compute_utils.notify_about_instance_delete(
rpc.get_notifier('compute'), cctxt, instance, source=CONDUCTOR)`.

Job (JSON on stdin): config_file ([database] is nova's cell, [api_database] set), our_cell
(database URL), instance_uuid, context {user_id, project_id, request_id, roles}, volume
(add a volume BDM), metadata (the server's), log_file (oslo's log driver's lines, as JSON
lines). Prints the context's dict and the Instance primitive our side destroys.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src/aioconductor/bench/nova_side"))


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc

    config.parse_args(["instance_delete_notify", "--config-file", job["config_file"]])
    objects.register_all()
    rpc.init(config.CONF)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import notification_log

    notification_log.capture(job.get("log_file"))
    import nova_api_boot
    from nova.compute import utils as compute_utils
    from nova.objects import fields

    c = job["context"]
    ctx = context.RequestContext(
        user_id=c["user_id"], project_id=c["project_id"], request_id=c["request_id"],
        roles=c["roles"], is_admin=False,
    )  # fmt: skip
    uuid = job["instance_uuid"]
    request = nova_api_boot.provision(
        ctx, [uuid], "r-delete", {"tags": ["t1"], "metadata": job.get("metadata", {"k": "v"})}
    )
    build_request = request["build_requests"][0]
    cells = {
        "ours": objects.CellMapping(
            uuid="aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa", name="ours",
            database_connection=job["our_cell"], transport_url="none:///",
        ),
        "nova": objects.CellMapping(
            uuid="bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb", name="nova",
            database_connection=config.CONF.database.connection, transport_url="none:///",
        ),
    }  # fmt: skip
    created = {}
    for side, cell in cells.items():
        instance = build_request.get_new_instance(ctx)
        instance.availability_zone = "nova"
        with context.target_cell(ctx, cell) as cctxt:
            instance._context = cctxt
            instance.create()
            bdms = [bdm.obj_clone() for bdm in request["block_device_mapping"]]
            if job["volume"]:
                bdms.append(
                    objects.BlockDeviceMapping(
                        source_type="volume", destination_type="volume",
                        volume_id="c0000000-0000-4000-8000-00000000000c", boot_index=None,
                        device_name="/dev/vdb", tag="data", delete_on_termination=False,
                    )
                )  # fmt: skip
            for bdm in bdms:
                bdm._context = cctxt
                bdm.instance_uuid = uuid
                bdm.create()
        created[side] = instance
    primitive = created["ours"].obj_to_primitive()
    instance = created["nova"]
    with context.target_cell(ctx, cells["nova"]) as cctxt:
        instance._context = cctxt
        notifier = rpc.get_notifier("compute")
        with compute_utils.notify_about_instance_delete(
            notifier, cctxt, instance, source=fields.NotificationSource.CONDUCTOR
        ):
            instance.destroy()
    rpc.cleanup()
    print(json.dumps({"context": ctx.to_dict(), "instance": primitive}, default=str))


if __name__ == "__main__":
    main()
