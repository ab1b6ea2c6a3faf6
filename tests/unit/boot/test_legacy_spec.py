"""The RequestSpec a reschedule casts: nova's legacy round trip, lossy where nova's is."""

from __future__ import annotations

from typing import Any

from aioconductor.boot.legacy_spec import legacy_request_spec, plain, spec_from_legacy
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS


def obj(objname: str, changes: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    made = {
        "nova_object.name": objname,
        "nova_object.namespace": "nova",
        "nova_object.version": NOVA_OBJECT_VERSIONS[objname],
        "nova_object.data": fields,
    }
    if changes:
        made["nova_object.changes"] = changes
    return made


FLAVOR = obj("Flavor", ["extra_specs"], memory_mb=512, vcpus=1, root_gb=1, ephemeral_gb=0)
IMAGE = obj(
    "ImageMeta",
    id="img",
    name=None,
    properties=obj("ImageMetaProps", hw_disk_bus="virtio", traits_required=["CUSTOM_X"]),
)


def spec(**fields: Any) -> dict[str, Any]:
    return obj(
        "RequestSpec",
        instance_uuid="u1",
        project_id="p",
        user_id="u",
        availability_zone=None,
        flavor=FLAVOR,
        image=IMAGE,
        num_instances=1,
        security_groups=obj("SecurityGroupList", objects=[]),
        is_bfv=False,
        **fields,
    )


def test_the_legacy_dict_is_nova_s() -> None:
    legacy = legacy_request_spec(spec())
    assert legacy["instance_type"] is FLAVOR
    assert legacy["instance_properties"] == {
        "project_id": "p", "user_id": "u", "availability_zone": None, "uuid": "u1",
        "root_gb": 1, "ephemeral_gb": 0, "memory_mb": 512, "vcpus": 1,
    }  # fmt: skip
    assert legacy["image"] == {
        "id": "img",
        "name": None,
        "properties": {"hw_disk_bus": "virtio", "traits_required": ["CUSTOM_X"]},
    }
    assert plain(obj("ComputeNodeList", objects=[obj("ComputeNode", host="h")])) == [{"host": "h"}]


def test_the_new_spec_marks_every_field_changed_and_loses_what_nova_loses() -> None:
    props = {"retry": {"num_attempts": 2, "hosts": [["h1", "n1"]]}, "limits": {"vcpu": 4},
             "scheduler_hints": {"group": "g", "many": ["a", "b"]}}  # fmt: skip
    new = spec_from_legacy(legacy_request_spec(spec()), props)
    fields = new["nova_object.data"]
    assert set(new["nova_object.changes"]) == set(fields)
    assert "security_groups" not in fields
    assert "is_bfv" not in fields
    assert "id" not in fields
    assert fields["requested_resources"] is None
    assert fields["instance_group"] is None
    assert fields["flavor"] is FLAVOR  # the same object, its own changes kept
    image = fields["image"]["nova_object.data"]
    assert image["name"] == ""  # None becomes '' in ImageMeta.from_dict
    assert image["properties"]["nova_object.data"] == {"hw_disk_bus": "virtio"}
    assert fields["scheduler_hints"] == {"group": ["g"], "many": ["a", "b"]}
    limits = fields["limits"]["nova_object.data"]
    assert limits == {"numa_topology": None, "vcpu": 4, "disk_gb": None, "memory_mb": None}
    retry = fields["retry"]["nova_object.data"]
    assert retry["num_attempts"] == 2
    node = retry["hosts"]["nova_object.data"]["objects"][0]
    assert node["nova_object.data"] == {"host": "h1", "hypervisor_hostname": "n1"}
    assert retry["hosts"]["nova_object.changes"] == ["objects"]


def test_a_retry_without_hosts_is_an_empty_object_and_no_hints_stay_none() -> None:
    new = spec_from_legacy(
        legacy_request_spec(spec()), {"retry": {"num_attempts": 1}, "scheduler_hints": None}
    )
    fields = new["nova_object.data"]
    assert fields["retry"]["nova_object.data"] == {}
    assert fields["scheduler_hints"] is None
