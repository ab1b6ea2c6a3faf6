"""A failing reschedule that needs what only nova-conductor has goes to it whole, before
anything is written; one that needs nothing more is never forwarded for it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from aioconductor.boot.build_instances import _Reschedule
from aioconductor.boot.legacy_filters import MaxRetriesExceeded
from aioconductor.context import RequestContext
from aioconductor.errors import NotNative
from aioconductor.notifications.notifier import NO_NOTIFICATIONS
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS


def obj(objname: str, **fields: Any) -> dict[str, Any]:
    return {
        "nova_object.name": objname,
        "nova_object.namespace": "nova",
        "nova_object.version": NOVA_OBJECT_VERSIONS[objname],
        "nova_object.data": fields,
    }


class NoWrites:
    """A database that must not be touched."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the database was used ({name}) before forwarding")


def reschedule(*, notifying: bool, networks: Any, fallback: str | None = "legacy") -> _Reschedule:
    services: Any = SimpleNamespace(
        settings=SimpleNamespace(aio=SimpleNamespace(fallback_host=fallback), host="c1"),
        notifying=notifying,
        notifier=NO_NOTIFICATIONS,
        url_defaults=None,
    )
    spec = obj("RequestSpec", flavor=obj("Flavor", root_gb=1, ephemeral_gb=0, memory_mb=1, vcpus=1))
    ctx = RequestContext.from_wire({"request_id": "req-1"})
    return _Reschedule(services, NoWrites(), ctx, spec, networks)  # type: ignore[arg-type]


def instance(network_allocated: str) -> dict[str, Any]:
    return obj("Instance", uuid="u1", system_metadata={"network_allocated": network_allocated})


NO_NETWORK = obj("NetworkRequestList", objects=[obj("NetworkRequest", network_id="none")])
A_NETWORK = obj("NetworkRequestList", objects=[obj("NetworkRequest", network_id="net-1")])


def test_a_failure_needing_neutron_is_forwarded_before_any_write() -> None:
    failing = reschedule(notifying=False, networks=A_NETWORK)
    with pytest.raises(NotNative) as forwarded:
        asyncio.run(failing.fail(instance("True"), MaxRetriesExceeded(reason="x"), raised=False))
    assert "Neutron" in str(forwarded.value)


@pytest.mark.parametrize(
    ("notifying", "networks", "allocated"),
    [
        (True, NO_NETWORK, "True"),  # no network: nothing for Neutron; notifications are ours
        (False, A_NETWORK, "False"),  # the compute deallocated before its cast
    ],
)
def test_a_failure_needing_nothing_more_is_recorded_here(
    notifying: bool, networks: Any, allocated: str
) -> None:
    failing = reschedule(notifying=notifying, networks=networks)
    # recorded here: it reaches the database (which this one refuses)
    with pytest.raises(AssertionError, match="the database was used"):
        asyncio.run(failing.fail(instance(allocated), MaxRetriesExceeded(reason="x"), raised=False))
