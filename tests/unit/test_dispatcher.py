"""oslo's endpoint selection: namespace, version rule, NoSuchMethod vs UnsupportedVersion."""

from __future__ import annotations

from typing import Any

import pytest

from aioconductor.conductor.endpoints import check_object_version, conductor_endpoints
from aioconductor.context import RequestContext
from aioconductor.errors import (
    IncompatibleObjectVersion,
    NoSuchMethod,
    NotNative,
    UnsupportedObjectError,
    UnsupportedVersion,
)
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.versions import is_compatible


@pytest.mark.parametrize(
    ("have", "want", "ok"),
    [
        ("3.0", "3.0", True),
        ("1.26", "1.20", True),
        ("1.26", "1.27", False),
        ("3.0", "2.9", False),
        ("3.0", "4.0", False),
        ("1.1", "1.1.1", False),
        ("1.1.2", "1.1.1", True),
        ("3.0", "x", False),
    ],
)
def test_version_rule(have: str, want: str, ok: bool) -> None:
    assert is_compatible(have, want) is ok


def test_resolution_follows_nova_endpoints() -> None:
    d = Dispatcher(conductor_endpoints(None))
    assert d.resolve("baseapi", "1.0", "ping")
    assert d.resolve(None, "3.0", "object_action")
    assert d.resolve("compute_task", "1.26", "attach_volume")
    with pytest.raises(NoSuchMethod):
        d.resolve(None, "3.0", "object_class_action")  # removed in 3.0, as in nova
    with pytest.raises(NoSuchMethod):
        d.resolve(None, "3.0", "target")  # attributes are never exposed
    with pytest.raises(UnsupportedVersion):
        d.resolve(None, "2.0", "object_action")
    with pytest.raises(UnsupportedVersion):
        d.resolve("compute_task", "1.27", "attach_volume")
    with pytest.raises(UnsupportedVersion):
        d.resolve("nonexistent", "1.0", "ping")


async def test_ping_answers_like_nova() -> None:
    d = Dispatcher(conductor_endpoints(None))
    handler = d.resolve("baseapi", "1.0", "ping")
    result: Any = await handler(RequestContext(), arg="1.21 GigaWatts")
    assert result == {"service": "conductor", "arg": "1.21 GigaWatts"}


def test_object_class_lookup_errors_match_ovo() -> None:
    assert check_object_version("Service", "1.20") == "1.22"
    with pytest.raises(UnsupportedObjectError) as unsupported:
        check_object_version("NoSuchThing", "1.0")
    assert unsupported.value.kwargs == {"objtype": "NoSuchThing", "code": 500}
    with pytest.raises(IncompatibleObjectVersion) as incompatible:
        check_object_version("Service", "1.99")
    assert str(incompatible.value) == (
        "Version 1.99 of Service is not supported, supported version is 1.22"
    )
    with pytest.raises(IncompatibleObjectVersion):
        check_object_version("Service", "2.0")


async def test_a_forwarded_pair_is_left_to_the_legacy_conductor() -> None:
    d = Dispatcher(conductor_endpoints(None, frozenset({("Instance", "save")})))
    handler = d.resolve(None, "3.0", "object_action")
    instance = {"nova_object.name": "Instance", "nova_object.namespace": "nova",
                "nova_object.version": "2.8", "nova_object.data": {"uuid": "u"},
                "nova_object.changes": ["vm_state"]}  # fmt: skip
    with pytest.raises(NotNative) as forwarded:
        await handler(RequestContext(), objinst=instance, objmethod="save", args=[], kwargs={})
    assert forwarded.value.reason.startswith("Instance.save is not served natively")
    assert "no [database] connection" not in forwarded.value.reason
    assert "[aioconductor] fallback_host" in forwarded.value.reason  # what enables forwarding


async def test_a_forwarded_class_method_is_left_to_the_legacy_conductor() -> None:
    d = Dispatcher(conductor_endpoints(None, frozenset({("Service", "get_minimum_version")})))
    handler = d.resolve(None, "3.0", "object_class_action_versions")
    with pytest.raises(NotNative) as forwarded:
        await handler(
            RequestContext(), objname="Service", objmethod="get_minimum_version",
            object_versions={"Service": "1.22"}, args=["nova-compute"], kwargs={},
        )  # fmt: skip
    assert "no [database] connection" not in forwarded.value.reason


async def test_cell_mappings_need_the_api_database() -> None:
    """Without [api_database] connection, CellMappingList.get_all (what a compute with one
    calls at start-up) is forwarded, or refused as NotServed, whatever the cell database."""
    from aioconductor.objects import load_all, registry

    load_all()
    d = Dispatcher(conductor_endpoints(None))
    handler = d.resolve(None, "3.0", "object_class_action_versions")
    versions = {"CellMappingList": "1.1", "CellMapping": "1.1"}
    with pytest.raises(NotNative) as forwarded:
        await handler(
            RequestContext(), objname="CellMappingList", objmethod="get_all",
            object_versions=versions, args=[], kwargs={},
        )  # fmt: skip
    assert "CellMappingList.get_all (no [api_database] connection)" in forwarded.value.reason
    # and the start-up log and check-config do not claim to serve it
    assert "CellMappingList.get_all" not in registry.served_names(api_database=False)
    assert "CellMappingList.get_all" in registry.served_names(api_database=True)
