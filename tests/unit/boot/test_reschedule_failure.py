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


@pytest.mark.parametrize(
    ("notifying", "networks", "allocated", "needs"),
    [
        (True, NO_NETWORK, "False", "notifications"),
        (False, A_NETWORK, "True", "Neutron"),
    ],
)
def test_a_failure_needing_the_legacy_conductor_is_forwarded_before_any_write(
    notifying: bool, networks: Any, allocated: str, needs: str
) -> None:
    failing = reschedule(notifying=notifying, networks=networks)
    with pytest.raises(NotNative) as forwarded:
        asyncio.run(failing.fail(instance(allocated), MaxRetriesExceeded(reason="x"), raised=False))
    assert needs in str(forwarded.value)


def test_networks_the_compute_already_deallocated_need_no_legacy_conductor() -> None:
    failing = reschedule(notifying=False, networks=A_NETWORK)
    # the compute marked them deallocated before its cast: nothing is missing, so the
    # failure is recorded here (and reaches the database, which this one refuses)
    with pytest.raises(AssertionError, match="the database was used"):
        asyncio.run(failing.fail(instance("False"), MaxRetriesExceeded(reason="x"), raised=False))
