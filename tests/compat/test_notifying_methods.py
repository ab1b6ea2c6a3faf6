"""Every method nova 34.0.0's objects notify from, that aioconductor serves natively, must
be one aioconductor notifies from (notifications.EMITTERS, each proven by an oracle test).

nova's objects are read as source: a remotable method notifies when its body, or a method
of its class it calls, calls `emit`, `send_update*`, `send_instance_update_notification`,
`_send_notification` or a `notify_about_*` helper. A new native method that notifies in
nova, or a notifying call added to a native one by a nova upgrade, fails this test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from aioconductor.notifications import EMITTERS
from aioconductor.objects import load_all, registry

pytestmark = pytest.mark.compat

NOVA_OBJECTS = (
    Path(__file__).resolve().parents[2] / ".venv-nova/lib/python3.11/site-packages/nova/objects"
)
_NOTIFYING_CALLS = {"emit", "send_update", "send_update_with_states",
                    "send_instance_update_notification", "_send_notification"}  # fmt: skip


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_remotable(method: ast.FunctionDef) -> bool:
    names = {ast.unparse(d) for d in method.decorator_list}
    return bool(names & {"base.remotable", "base.remotable_classmethod"})


def _notifying_methods() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(NOVA_OBJECTS.glob("*.py")):
        for cls in ast.parse(path.read_text()).body:
            if isinstance(cls, ast.ClassDef):
                found.update((cls.name, name) for name in _notifying_in(cls))
    return found


def _notifying_in(cls: ast.ClassDef) -> list[str]:
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    calls = {
        name: {_called_name(c) for c in ast.walk(m) if isinstance(c, ast.Call)}
        for name, m in methods.items()
    }

    def notifies(name: str, seen: frozenset[str]) -> bool:
        names = {n for n in calls.get(name, set()) if n}
        if names & _NOTIFYING_CALLS or any(n.startswith("notify_about_") for n in names):
            return True
        return any(n in methods and n not in seen and notifies(n, seen | {name}) for n in names)

    return [
        name
        for name, method in methods.items()
        if _is_remotable(method) and notifies(name, frozenset())
    ]


def test_the_scan_finds_what_nova_is_known_to_notify_from() -> None:
    notifying = _notifying_methods()
    # nova's own: the service status, instance updates, aggregates (not native here)
    assert {("Service", "create"), ("Service", "save"), ("Instance", "save")} <= notifying
    assert ("Aggregate", "create") in notifying
    assert ("Instance", "destroy") not in notifying


def test_every_native_method_that_notifies_in_nova_notifies_here() -> None:
    load_all()
    native = {(obj, method) for _, obj, method in registry.native_pairs()}
    missing = (_notifying_methods() & native) - set(EMITTERS)
    assert missing == set(), "native, notifies in nova, sends nothing here"
    assert set(EMITTERS) <= native
