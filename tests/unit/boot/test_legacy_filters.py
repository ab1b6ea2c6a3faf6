"""The filter properties a boot cast carries, against what nova's conductor builds (values
read from nova 34.0.0's RequestSpec.to_legacy_filter_properties_dict, populate_retry and
populate_filter_properties)."""

from __future__ import annotations

from typing import Any

import pytest

from aioconductor.boot.legacy_filters import (
    MaxRetriesExceeded,
    legacy_filter_properties,
    limits_dict,
    populate_filter_properties,
    populate_retry,
)


def obj(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": "1.0",
        "nova_object.data": fields,
    }


def selection(limits: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "service_host": "compute-1",
        "nodename": "node-1",
        "limits": obj("SchedulerLimits", **limits) if limits is not None else None,
    }


def test_a_plain_boot_gets_a_first_attempt_and_the_selected_host() -> None:
    props = legacy_filter_properties({"scheduler_hints": {}, "ignore_hosts": None})
    populate_retry(props, "uuid-1", max_attempts=3)
    populate_filter_properties(props, selection({"vcpu": None, "memory_mb": None}))
    assert props == {"retry": {"num_attempts": 1, "hosts": [["compute-1", "node-1"]]}, "limits": {}}


def test_hints_of_one_value_read_as_that_value() -> None:
    props = legacy_filter_properties({"scheduler_hints": {"group": ["g1"], "near": ["a", "b"]}})
    assert props == {"scheduler_hints": {"group": "g1", "near": ["a", "b"]}}


def test_max_attempts_one_disables_the_retry() -> None:
    props: dict[str, Any] = {}
    populate_retry(props, "uuid-1", max_attempts=1)
    populate_filter_properties(props, selection(None))
    assert props == {"limits": {}}


def test_a_single_forced_host_disables_the_retry_and_keeps_no_limits() -> None:
    props = legacy_filter_properties({"force_hosts": ["compute-1"]})
    populate_retry(props, "uuid-1", max_attempts=3)
    populate_filter_properties(props, selection({"vcpu": 4}))
    assert props == {"force_hosts": ["compute-1"]}


def test_limits_keep_only_what_is_set() -> None:
    assert limits_dict(obj("SchedulerLimits", vcpu=8, memory_mb=None, disk_gb=20)) == {
        "vcpu": 8,
        "disk_gb": 20,
    }


def test_too_many_attempts_fail_as_nova_fails() -> None:
    props = {"retry": {"num_attempts": 3, "hosts": [], "exc_reason": "boom"}}
    with pytest.raises(MaxRetriesExceeded) as raised:
        populate_retry(props, "uuid-1", max_attempts=3)
    assert str(raised.value) == (
        "Exceeded maximum number of retries. "
        "Exceeded max scheduling attempts 3 for instance uuid-1. Last exception: boom"
    )


def test_a_carried_retry_becomes_host_pairs() -> None:
    node = obj("ComputeNode", host="h1", hypervisor_hostname="n1")
    retry = obj("SchedulerRetries", num_attempts=1, hosts=obj("ComputeNodeList", objects=[node]))
    assert legacy_filter_properties({"retry": retry}) == {
        "retry": {"num_attempts": 1, "hosts": [["h1", "n1"]]}
    }


def test_request_groups_get_the_providers_the_selection_mapped_them_to() -> None:
    import json

    from aioconductor.boot.legacy_filters import fill_provider_mapping

    group = {"nova_object.name": "RequestGroup", "nova_object.data": {"requester_id": "port-1"}}
    spec = {"nova_object.name": "RequestSpec", "nova_object.data": {"requested_resources": [group]}}
    mapped = {"allocations": {}, "mappings": {"port-1": ["rp"]}}
    selection = {"allocation_request": json.dumps(mapped)}
    fill_provider_mapping(spec, selection)
    assert group["nova_object.data"]["provider_uuids"] == ["rp"]
    assert group["nova_object.changes"] == ["provider_uuids"]
    with pytest.raises(KeyError):  # a group the candidate did not map: nova fails the build
        fill_provider_mapping(spec, {"allocation_request": json.dumps({"mappings": {}})})
