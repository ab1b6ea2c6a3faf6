"""Every method nova 34.0.0's objects notify from, that aioconductor serves natively, must
be one aioconductor notifies from (notifications.EMITTERS, each proven by an oracle test).

legacy/notifying_methods.py reads nova's objects as source in nova's virtualenv. A new
native method that notifies in nova, or a notifying call a nova upgrade adds to a native
one, fails this test.
"""

from __future__ import annotations

import pytest

from aioconductor.notifications import EMITTERS
from aioconductor.objects import load_all, registry
from tests.compat.nova_processes import run_nova_script

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def notifying() -> set[tuple[str, str]]:
    return {(cls, method) for cls, method in run_nova_script("notifying_methods.py", {})}


def test_the_scan_finds_what_nova_is_known_to_notify_from(
    notifying: set[tuple[str, str]],
) -> None:
    # nova's own: the service status, instance updates, aggregates (not native here)
    assert {("Service", "create"), ("Service", "save"), ("Instance", "save")} <= notifying
    assert ("Aggregate", "create") in notifying
    assert ("Instance", "destroy") not in notifying


def test_every_native_method_that_notifies_in_nova_notifies_here(
    notifying: set[tuple[str, str]],
) -> None:
    load_all()
    native = {(obj, method) for _, obj, method in registry.native_pairs()}
    missing = (notifying & native) - set(EMITTERS)
    assert missing == set(), "native, notifies in nova, sends nothing here"
    assert set(EMITTERS) <= native
