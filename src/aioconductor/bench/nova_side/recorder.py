"""Runs in nova 34.0.0's virtualenv: seeds the boot template and records a boot's wire requests.

Reads a JSON job on stdin, prints one JSON document on its last stdout line.
  {"phase": "seed", "config_file": ...}    boot_delete.seed() on the database (nova's objects);
                                           prints the template's ids.
  {"phase": "record", "config_file": ...}  boot_delete.run() with NovaObject.indirection_api =
                                           ConductorAPI() against a running conductor; prints
                                           every step's request exactly as oslo.messaging's
                                           transport was handed it (serialised context and
                                           message), so the benchmark replays nova's own bytes.
"""

import importlib.util
import json
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def _sequence():
    spec = importlib.util.spec_from_file_location(
        "boot_delete", Path(__file__).with_name("boot_delete.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc
    from nova.conductor import rpcapi
    from nova.db.main import api as db_api
    from nova.objects import base as objects_base
    from oslo_messaging import transport as oslo_transport
    from oslo_serialization import jsonutils
    from oslo_versionedobjects import base as ovo_base

    record = job["phase"] == "record"
    config.parse_args(
        ["recorder", "--config-file", job["config_file"]], configure_db=not record, init_rpc=False
    )
    objects.register_all()
    rpc.init(config.CONF)
    sequence = _sequence()
    ctx = context.get_admin_context()
    if not record:
        sequence.seed(ctx, objects)
        inst = objects.Instance.get_by_uuid(ctx, sequence.U, expected_attrs=[])
        bdm = objects.BlockDeviceMappingList.get_by_instance_uuid(ctx, sequence.U)[0]
        node = objects.ComputeNode.get_by_host_and_nodename(ctx, sequence.HOST, sequence.NODENAME)
        print(json.dumps({
            "uuid": sequence.U, "id": inst.id, "bdm_uuid": bdm.uuid, "bdm_id": bdm.id,
            "node_uuid": node.uuid, "node_id": node.id, "service_id": node.service_id,
            "host": sequence.HOST, "node": sequence.NODENAME, "port": sequence.PORT,
            "mac": "fa:16:3e:7e:00:01", "boot_request_id": sequence.BOOT_REQ,
            "delete_request_id": sequence.DELETE_REQ,
            # what nova's client sends as object_versions for the fleet's class calls
            "manifests": {name: ovo_base.obj_tree_get_versions(name) for name in (
                "Service", "ComputeNodeList", "InstanceList", "BlockDeviceMappingList",
                "MigrationList")},
        }))  # fmt: skip
        return

    db_api.DISABLE_DB_ACCESS = True
    objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
    steps = []
    current = {"label": None}
    original_send = oslo_transport.Transport._send

    def recording_send(self, target, ctxt, message, *args, **kwargs):
        if current["label"] is not None:
            steps.append({
                "label": current["label"],
                "context": json.loads(jsonutils.dumps(ctxt)),
                "message": json.loads(jsonutils.dumps(message)),
            })  # fmt: skip
        return original_send(self, target, ctxt, message, *args, **kwargs)

    oslo_transport.Transport._send = recording_send
    failures = []

    def step(label, fn):
        current["label"] = label
        try:
            fn()
        except Exception as exc:
            failures.append(f"{label}: {type(exc).__name__}: {exc}")
        finally:
            current["label"] = None

    sequence.run(ctx, objects, step)
    print(json.dumps({"steps": steps, "failures": failures}))


if __name__ == "__main__":
    main()
