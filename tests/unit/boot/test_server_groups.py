"""A server group's policy checks and legacy dicts, as nova's scheduler utils and
RequestSpec build them (the whole boot is compared with nova-conductor's by the boot
oracle)."""

from __future__ import annotations

from typing import Any

from aioconductor.boot.server_groups import group_from_legacy, legacy_group_info, unsupported
from aioconductor.config.boot_options import BootOptions, boot_options
from aioconductor.config.nova_conf import NovaConf, parse_text


def options(text: str) -> BootOptions:
    conf = NovaConf()
    parse_text(text, conf)
    return boot_options(conf)


def group(**fields: Any) -> dict[str, Any]:
    return {
        "nova_object.name": "InstanceGroup",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.11",
        "nova_object.data": fields,
    }


def test_nova_defaults_support_every_policy() -> None:
    defaults = options("")
    for policy in ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity", None):
        assert unsupported(defaults, policy) is None


def test_a_policy_without_its_filter_or_weigher_is_refused_with_novas_reason() -> None:
    conf = options(
        "[filter_scheduler]\nenabled_filters = ComputeFilter, ServerGroupAffinityFilter\n"
        "weight_classes = nova.scheduler.weights.affinity.ServerGroupSoftAffinityWeigher\n"
    )
    assert conf.enabled_filters == ("ComputeFilter", "ServerGroupAffinityFilter")
    assert unsupported(conf, "affinity") is None
    assert unsupported(conf, "anti-affinity") == "ServerGroupAntiAffinityFilter not configured"
    assert unsupported(conf, "soft-affinity") is None
    assert (
        unsupported(conf, "soft-anti-affinity")
        == "ServerGroupSoftAntiAffinityWeigher not configured"
    )
    nothing = options("[filter_scheduler]\nenabled_filters =\nweight_classes =\n")
    assert unsupported(nothing, "affinity") == "ServerGroupAffinityFilter not configured"
    assert unsupported(nothing, "soft-affinity") == "ServerGroupSoftAffinityWeigher not configured"


def test_the_legacy_group_keys_carry_sets_as_lists() -> None:
    info = legacy_group_info(
        group(uuid="g", policy="anti-affinity", hosts=["h1", "h1"], members=["a", "b", "a"])
    )
    assert info == {
        "group_updated": True,
        "group_hosts": ["h1"],
        "group_policies": ["anti-affinity"],
        "group_members": ["a", "b"],
        "group_uuid": "g",
    }


def test_a_reschedule_rebuilds_the_group_from_the_legacy_keys_hosts_not_changed() -> None:
    props = {
        "group_updated": True,
        "group_hosts": ["h1"],
        "group_policies": ["affinity"],
        "group_members": ["a"],
        "group_uuid": "g",
    }
    rebuilt = group_from_legacy(props)
    assert rebuilt["nova_object.data"] == {
        "policy": "affinity",
        "hosts": ["h1"],
        "members": ["a"],
        "uuid": "g",
    }
    assert rebuilt["nova_object.changes"] == ["members", "policy", "uuid"]
    assert group_from_legacy({}) is None
    assert group_from_legacy({"group_updated": False}) is None
