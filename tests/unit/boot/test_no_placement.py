"""A conductor with an API database but no [placement] still starts and builds boots: only
the allocation release of a server deleted during its scheduling cannot happen (a worker
used to die at start-up here)."""

from __future__ import annotations

import asyncio

import pytest

from aioconductor.boot.placement import PlacementNotConfigured
from aioconductor.boot.services import NoPlacement, _placement
from aioconductor.config.settings import load_settings
from aioconductor.context import RequestContext


def test_without_placement_options_the_boot_path_still_gets_a_client() -> None:
    settings = load_settings([], env={})
    client = _placement(settings)
    assert isinstance(client, NoPlacement)
    with pytest.raises(PlacementNotConfigured, match="auth_type is not set"):
        asyncio.run(client.delete_allocation_for_instance(RequestContext(), "uuid-1", force=True))
