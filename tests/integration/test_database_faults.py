"""Requests that break at the database answer what nova-conductor answers for them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioconductor.conductor.endpoints import ConductorEndpoint
from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from aioconductor.messaging.failures import failure_dict
from aioconductor.objects import load_all
from tests.integration.conftest import schema_database

pytestmark = pytest.mark.connected
ADMIN = RequestContext(is_admin=True)


@pytest.fixture(scope="module")
def nova_db() -> Any:
    with schema_database("dbfault") as name:
        yield name


@pytest.fixture(params=["asyncmy", "aiomysql"])
async def endpoint(request: pytest.FixtureRequest, nova_db: str) -> AsyncIterator[Any]:
    load_all()
    db = Database.from_url(f"mysql+{request.param}://root@127.0.0.1/{nova_db}", pool_size=2)
    try:
        yield ConductorEndpoint(db)
    finally:
        await db.close()


async def _failure_of(call: Any) -> dict[str, Any]:
    try:
        await call
    except Exception as exc:
        failure = failure_dict(exc, with_traceback=False)
        failure.pop("tb")
        return failure
    raise AssertionError("the call did not fail")


async def test_a_lone_surrogate_in_a_filter_is_oslo_dbs_invalid_unicode_parameter(
    endpoint: ConductorEndpoint,
) -> None:
    # nova: PyMySQL cannot encode it, and oslo.db's exception filter for UnicodeEncodeError
    # (exc_filters._raise_for_unicode_encode) answers DBInvalidUnicodeParameter
    failure = await _failure_of(
        endpoint.object_class_action_versions(
            ADMIN, "InstanceList", "get_by_host", {"InstanceList": "2.6"}, ["\ud800"], {}
        )
    )
    message = "Invalid Parameter: Encoding directive wasn't provided."
    assert failure == {
        "class": "DBInvalidUnicodeParameter",
        "module": "oslo_db.exception",
        "message": message,
        "args": [message],
        "kwargs": {},
    }
    # and the pooled connection is still good for the next call
    listed = await endpoint.object_class_action_versions(
        ADMIN, "InstanceList", "get_by_host", {"InstanceList": "2.6"}, ["host-1"], {}
    )
    assert listed["nova_object.data"]["objects"] == []


async def test_a_manifest_without_the_class_is_nova_conductors_key_error(
    endpoint: ConductorEndpoint,
) -> None:
    # nova 34 ConductorManager.object_class_action_versions reads object_versions[objname]
    # before dispatching (outside _object_dispatch): the caller gets KeyError('Service')
    failure = await _failure_of(
        endpoint.object_class_action_versions(
            ADMIN, "Service", "get_minimum_version", {"ComputeNode": "1.19"}, ["nova-compute"], {}
        )
    )
    assert failure == {
        "class": "KeyError",
        "module": "builtins",
        "message": "'Service'",
        "args": ["Service"],
        "kwargs": {},
    }
