"""Which boot requests are built here, and which go WHOLE to the legacy conductor.

The decision is taken before anything is written or asked of the scheduler: a request
forwarded after a step of ours would be built twice. A boot is forwarded when it needs a
service client we do not build (Cyborg accelerators, a port's device profile), a part of the
conductor not written yet (a retry carried in from elsewhere), or objects at versions other
than nova 34.0.0's, which we do not guess at.
"""

from __future__ import annotations

from typing import Any

from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS


def _object(value: Any) -> tuple[str | None, str | None, dict[str, Any]]:
    if not isinstance(value, dict) or "nova_object.name" not in value:
        return None, None, {}
    data = value.get("nova_object.data")
    return (
        str(value["nova_object.name"]),
        str(value.get("nova_object.version")),
        data if isinstance(data, dict) else {},
    )


def _version_problem(value: Any, expected: str) -> str | None:
    name, version, _ = _object(value)
    if name != expected:
        return f"a {expected} was expected, got {name or type(value).__name__}"
    if version != NOVA_OBJECT_VERSIONS[expected]:
        return f"{expected} {version} (nova 34.0.0 sends {NOVA_OBJECT_VERSIONS[expected]})"
    return None


def _spec_problem(spec: dict[str, Any]) -> str | None:
    if spec.get("retry"):
        return "a request spec that carries a retry"
    return _reschedule_spec_problem(spec)


def _reschedule_spec_problem(spec: dict[str, Any]) -> str | None:
    """What a spec may not carry in a boot or a reschedule (a reschedule's spec carries the
    retry of the attempts before it)."""
    flavor = _object(spec.get("flavor"))[2]
    if "accel:device_profile" in (flavor.get("extra_specs") or {}):
        return "a Cyborg device profile (accel:device_profile)"
    return None


def why_forwarded(
    build_requests: Any,
    request_specs: Any,
    requested_networks: Any,
) -> str | None:
    """None when the boot is built here; else why it goes to the legacy conductor."""
    if not isinstance(build_requests, list) or not isinstance(request_specs, list):
        return "build_requests and request_specs must be lists"
    if not build_requests or len(build_requests) != len(request_specs):
        return "as many build requests as request specs, at least one"
    for build_request, spec in zip(build_requests, request_specs, strict=True):
        problem = _version_problem(build_request, "BuildRequest") or _version_problem(
            spec, "RequestSpec"
        )
        if problem:
            return problem
        instance = _object(build_request)[2].get("instance")
        problem = _version_problem(instance, "Instance") or _spec_problem(_object(spec)[2])
        if problem:
            return problem
    return _networks_problem(requested_networks)


def _networks_problem(requested_networks: Any) -> str | None:
    networks = _object(requested_networks)[2].get("objects") or []
    for network in networks:
        if _object(network)[2].get("device_profile"):
            return "a port with a Cyborg device profile"
    return None


def why_reschedule_forwarded(
    instances: Any,
    filter_properties: Any,
    requested_networks: Any,
    request_spec: Any,
    host_lists: Any,
) -> str | None:
    """None when compute_task.build_instances (a compute's reschedule) is built here; else
    why it goes whole to the legacy conductor. The block device mappings are checked by
    the caller, who reads them (a volume attachment needs Cinder)."""
    if not isinstance(instances, list) or not instances:
        return "instances must be a non-empty list"
    for instance in instances:
        problem = _version_problem(instance, "Instance")
        if problem:
            return problem
    if host_lists is None:
        return "no host lists (a reschedule from a compute older than Queens)"
    if not isinstance(host_lists, list) or not all(isinstance(h, list) for h in host_lists):
        return "host_lists must be a list of lists"
    for hosts in host_lists:
        for host in hosts:
            problem = _version_problem(host, "Selection")
            if problem:
                return problem
    if request_spec is None:
        return "no request spec (a compute older than Ocata)"
    problem = _version_problem(request_spec, "RequestSpec") or _reschedule_spec_problem(
        _object(request_spec)[2]
    )
    if problem:
        return problem
    if not isinstance(filter_properties, dict):
        return "filter_properties must be a dict"
    if "instance_type" in filter_properties and _object(filter_properties["instance_type"])[0] != (
        "Flavor"
    ):
        return "a flavor dict in the filter properties (an old compute)"
    if not filter_properties.get("retry"):
        return "filter properties without a retry (rescheduling is off)"
    if requested_networks is not None and _object(requested_networks)[0] != "NetworkRequestList":
        return "requested networks as tuples (an old compute)"
    return _networks_problem(requested_networks)
