"""Which boots are built here: everything else goes whole to the legacy conductor, decided
before any step is taken."""

from __future__ import annotations

from typing import Any

from aioconductor.boot.gate import why_forwarded
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS


def obj(name: str, version: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version or NOVA_OBJECT_VERSIONS[name],
        "nova_object.data": fields,
    }


def boot(**spec_fields: Any) -> tuple[list[Any], list[Any]]:
    build_request = obj("BuildRequest", instance_uuid="u1", instance=obj("Instance", uuid="u1"))
    flavor = obj("Flavor", extra_specs=spec_fields.pop("extra_specs", {}))
    spec = obj("RequestSpec", instance_uuid="u1", flavor=flavor, **spec_fields)
    return [build_request], [spec]


def networks(*entries: dict[str, Any]) -> dict[str, Any]:
    return obj("NetworkRequestList", objects=[obj("NetworkRequest", **e) for e in entries])


def test_a_plain_boot_is_built_here() -> None:
    brs, specs = boot(instance_group=None, requested_resources=[])
    assert why_forwarded(brs, specs, networks({"network_id": "none"})) is None


def test_server_groups_accelerators_and_resource_requests_are_forwarded() -> None:
    cases = {
        "server group": boot(instance_group=obj("InstanceGroup", uuid="g")),
        "resource requests": boot(requested_resources=[obj("RequestGroup")]),
        "Cyborg": boot(extra_specs={"accel:device_profile": "gpu"}),
    }
    for words, (brs, specs) in cases.items():
        reason = why_forwarded(brs, specs, None)
        assert reason is not None
        assert words in reason


def test_a_port_with_a_device_profile_is_forwarded() -> None:
    brs, specs = boot()
    reason = why_forwarded(brs, specs, networks({"port_id": "p", "device_profile": "dp"}))
    assert reason == "a port with a Cyborg device profile"


def test_other_object_versions_are_not_guessed() -> None:
    brs, specs = boot()
    specs[0]["nova_object.version"] = "1.14"
    reason = why_forwarded(brs, specs, None)
    assert reason is not None
    assert "RequestSpec 1.14" in reason


def test_mismatched_lists_are_forwarded_not_half_built() -> None:
    brs, specs = boot()
    assert why_forwarded(brs, specs + specs, None) is not None
    assert why_forwarded([], [], None) is not None
