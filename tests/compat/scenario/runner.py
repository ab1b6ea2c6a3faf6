"""Runs in nova 34.0.0's virtualenv: one phase of a scenario file through nova's own objects.

Reads {"scenario": <path>, "phase": "seed"|"run", "mode": "direct"|"indirect",
"config_file": <nova.conf>, "log_file": <path, optional: the log driver's lines as JSON
lines>} on stdin and prints one JSON list on its last stdout line.

phase "seed": `scenario.seed(ctx, objects)` directly on the database (nothing recorded).
phase "run": `scenario.run(ctx, objects, step)`; mode "direct" runs nova's objects on the
database (what nova-conductor does), mode "indirect" sets `NovaObject.indirection_api =
ConductorAPI()` with DB access off, as nova-compute runs. `step(label, fn)` records what
`fn()` returned (objects as their primitive plus obj_what_changed) or the error it raised.
"""

import importlib.util
import json
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def _load(path):
    spec = importlib.util.spec_from_file_location("scenario", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plain(value):
    from nova.objects import base

    if isinstance(value, base.NovaObject):
        return {
            "primitive": value.obj_to_primitive(),
            "changed": sorted(value.obj_what_changed()),
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def main():
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc
    from nova.conductor import rpcapi
    from nova.db.main import api as db_api
    from nova.objects import base as objects_base
    from oslo_serialization import jsonutils

    indirect = job["phase"] == "run" and job["mode"] == "indirect"
    config.parse_args(
        ["scenario", "--config-file", job["config_file"]],
        configure_db=not indirect,
        init_rpc=False,
    )
    objects.register_all()
    rpc.init(config.CONF)  # notifications (service.create/update, ...) need the notifier
    if job.get("log_file"):  # oslo's log driver's lines, for the other side to compare
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "legacy"))
        import notification_log

        notification_log.capture(job["log_file"])
    if indirect:
        db_api.DISABLE_DB_ACCESS = True
        objects_base.NovaObject.indirection_api = rpcapi.ConductorAPI()
    scenario = _load(job["scenario"])
    ctx = context.get_admin_context()
    out = []

    def step(label, fn):
        try:
            value = _plain(fn())
            out.append({"label": label, "ok": json.loads(jsonutils.dumps(value))})
        except Exception as exc:
            kwargs = getattr(exc, "kwargs", {})
            out.append(
                {
                    "label": label,
                    "error": {
                        "class": type(exc).__name__.replace("_Remote", ""),
                        "kwargs": json.loads(jsonutils.dumps(kwargs, default=repr)),
                    },
                }
            )

    if job["phase"] == "seed":
        scenario.seed(ctx, objects)
    else:
        scenario.run(ctx, objects, step)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
