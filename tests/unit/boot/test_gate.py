"""Which boots are built here: everything else goes whole to the legacy conductor, decided
before any step is taken."""

from __future__ import annotations

from typing import Any

from aioconductor.boot.gate import why_forwarded, why_reschedule_forwarded
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


def test_a_boot_into_a_server_group_is_built_here() -> None:
    brs, specs = boot(instance_group=obj("InstanceGroup", uuid="g"))
    assert why_forwarded(brs, specs, None) is None


def test_cyborg_profiles_are_forwarded() -> None:
    cases = {
        "Cyborg": boot(extra_specs={"accel:device_profile": "gpu"}),
    }
    for words, (brs, specs) in cases.items():
        reason = why_forwarded(brs, specs, None)
        assert reason is not None
        assert words in reason


def test_resource_requests_of_ports_are_built_here() -> None:
    # a QoS port's request group: the conductor only maps it to the selected providers
    brs, specs = boot(requested_resources=[obj("RequestGroup", requester_id="port-1")])
    assert why_forwarded(brs, specs, None) is None


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


def reschedule(**overrides: Any) -> dict[str, Any]:
    """build_instances' arguments as nova-compute 34.0.0 casts them after a failed build."""
    flavor = obj("Flavor", extra_specs={})
    args: dict[str, Any] = {
        "instances": [obj("Instance", uuid="u1")],
        "filter_properties": {"retry": {"num_attempts": 1, "hosts": [["h1", "n1"]]}},
        "requested_networks": networks({"network_id": "none"}),
        "request_spec": obj("RequestSpec", instance_uuid="u1", flavor=flavor, retry=None),
        "host_lists": [[obj("Selection", service_host="h2")]],
    }
    args.update(overrides)
    return args


def test_a_reschedule_is_built_here_even_with_its_spec_carrying_a_retry() -> None:
    assert why_reschedule_forwarded(**reschedule()) is None
    spec = obj("RequestSpec", flavor=obj("Flavor"), retry=obj("SchedulerRetries"))
    assert why_reschedule_forwarded(**reschedule(request_spec=spec)) is None


def test_a_reschedule_in_a_server_group_is_built_here() -> None:
    group = obj("InstanceGroup", uuid="g", policy="anti-affinity")
    spec = obj("RequestSpec", flavor=obj("Flavor"), instance_group=group)
    props = {"retry": {"num_attempts": 1, "hosts": [["h1", "n1"]]}, "group_updated": True}
    args = reschedule(request_spec=spec, filter_properties=props)
    assert why_reschedule_forwarded(**args) is None


def test_reschedules_of_old_computes_and_of_what_we_do_not_build_are_forwarded() -> None:
    cases = {
        "older than Queens": reschedule(host_lists=None),
        "older than Ocata": reschedule(request_spec=None),
        "rescheduling is off": reschedule(filter_properties={}),
        "a flavor dict": reschedule(
            filter_properties={"retry": {"num_attempts": 1}, "instance_type": {"id": 1}}
        ),
        "tuples": reschedule(requested_networks=[["net", None, None, None]]),
        "Cyborg device profile": reschedule(
            requested_networks=networks({"port_id": "p", "device_profile": "dp"})
        ),
        "Selection 1.0": reschedule(host_lists=[[obj("Selection", "1.0")]]),
    }
    for words, args in cases.items():
        reason = why_reschedule_forwarded(**args)
        assert reason is not None, words
        assert words in reason, reason
