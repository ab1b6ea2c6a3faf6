"""Runs under nova 34.0.0's virtualenv: what nova-conductor answers a client with an older
Service in its manifest. Creates one compute service row, then for each requested version
does what ConductorManager.object_class_action_versions does: look the class up at that
version, run get_by_host_and_binary, and backport the result to the caller's manifest.
Prints a JSON object {version: primitive}.
"""

import json
import sys


def main() -> None:
    job = json.load(sys.stdin)
    from nova import config, context, objects, rpc
    from nova.objects import base as objects_base
    from oslo_utils import versionutils

    config.parse_args(["backport", "--config-file", job["config_file"]], init_rpc=False)
    objects.register_all()
    rpc.init(config.CONF)  # Service.create sends a notification
    ctx = context.get_admin_context()
    objects.Service(ctx, host="bp-host", binary="nova-compute", topic="compute",
                    report_count=7, disabled=True, disabled_reason="maintenance",
                    forced_down=False).create()  # fmt: skip
    answers = {}
    for version in job["versions"]:
        cls = objects_base.NovaObject.obj_class_from_name("Service", version)
        result = cls.get_by_host_and_binary(ctx, "bp-host", "nova-compute")
        requested = versionutils.convert_version_to_tuple(version)
        if requested < versionutils.convert_version_to_tuple(result.VERSION):
            answers[version] = result.obj_to_primitive(
                target_version=version, version_manifest={"Service": version}
            )
        else:
            answers[version] = result.obj_to_primitive()
    print(json.dumps(answers, default=str))


if __name__ == "__main__":
    main()
