"""new_instance and _volume_size without services (the oracle tests prove them against nova;
these pin the rules that are easy to break)."""

from __future__ import annotations

from typing import Any

import pytest

from aioconductor.boot.cell_records import volume_size
from aioconductor.boot.new_instance import new_instance
from aioconductor.errors import NotNative
from aioconductor.objects import primitives as p


def _flavor(extra_specs: dict[str, str], **more: Any) -> p.Primitive:
    data = {"vcpus": 1, "memory_mb": 512, "swap": 256, "ephemeral_gb": 3,
            "extra_specs": extra_specs, **more}  # fmt: skip
    return p.make("Flavor", "1.2", data)


def _build_request(instance: dict[str, Any], version: str = "2.8") -> p.Primitive:
    return p.make(
        "BuildRequest",
        "1.3",
        {"instance_uuid": "u", "instance": p.make("Instance", version, instance)},
    )


def test_every_set_field_but_tags_is_copied_as_a_change() -> None:
    tags = p.make_list("TagList", "1.1", [])
    fresh = new_instance(
        _build_request(
            {
                "uuid": "u",
                "vm_state": "building",
                "tags": tags,
                "flavor": _flavor({}),
                "old_flavor": None,
            }
        )
    )
    assert fresh["nova_object.version"] == "2.8"
    data = fresh["nova_object.data"]
    assert "tags" not in data
    assert fresh["nova_object.changes"] == ["flavor", "old_flavor", "uuid", "vm_state"]
    assert "nova_object.changes" not in data["flavor"]  # no extra specs: clean


def test_a_flavor_with_extra_specs_comes_out_changed_as_novas_does() -> None:
    fresh = new_instance(_build_request({"uuid": "u", "flavor": _flavor({"a": "b"})}))
    assert fresh["nova_object.data"]["flavor"]["nova_object.changes"] == ["extra_specs"]


def test_another_instance_version_is_not_served() -> None:
    with pytest.raises(NotNative):
        new_instance(_build_request({"uuid": "u"}, version="2.7"))


@pytest.mark.parametrize(
    ("bdm", "size"),
    [
        ({"volume_size": None, "source_type": "blank", "destination_type": "local",
          "guest_format": "swap"}, 256),
        ({"volume_size": None, "source_type": "blank", "destination_type": "local",
          "guest_format": None}, 3),
        ({"volume_size": 7, "source_type": "blank", "destination_type": "local"}, 7),
        ({"volume_size": None, "source_type": "image", "destination_type": "local"}, None),
        ({"volume_size": None, "source_type": "blank", "destination_type": "volume"}, None),
    ],
)  # fmt: skip
def test_volume_size_takes_the_flavors_swap_or_ephemeral_for_blank_local_disks(
    bdm: dict[str, Any], size: int | None
) -> None:
    assert volume_size(_flavor({}), bdm) == size


def test_an_unset_field_nova_would_lazy_load_is_not_served() -> None:
    with pytest.raises(NotNative):
        volume_size(_flavor({}), {"volume_size": None, "source_type": "blank"})
