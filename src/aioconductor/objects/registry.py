"""(objname, objmethod) -> native async handler, and the calls those handlers receive.

Object modules register handlers at import time; `objects/__init__.py` imports them all.

    @remotable_classmethod("Service", "get_by_host_and_binary")
    async def get_by_host_and_binary(call: ClassCall, host: str, binary: str) -> Primitive | None

    @remotable("Service", "save")
    async def save(call: InstanceCall) -> None

Handlers of API-database objects (cell, host and instance mappings) register with
`database="api"`: their `call.db` is the `[api_database]` handle, and without one they are
forwarded or refused like any method we do not serve.

Handlers receive positional and keyword arguments exactly as the caller sent them, bound by
Python to the handler's signature (so a mismatch is the same TypeError nova would raise).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aioconductor.context import RequestContext
from aioconductor.notifications.notifier import NO_NOTIFICATIONS, Notifications
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import ObjectPrimitive

if TYPE_CHECKING:
    from aioconductor.db.engine import Database

ClassHandler = Callable[..., Awaitable[Any]]
InstanceHandler = Callable[..., Awaitable[Any]]
H = TypeVar("H", bound=Callable[..., Awaitable[Any]])

_CLASS_METHODS: dict[tuple[str, str], ClassHandler] = {}
_INSTANCE_METHODS: dict[tuple[str, str], InstanceHandler] = {}
# (objname, method) whose handler runs on the API database
_API_DATABASE: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class UrlDefaults:
    """What nova fills cell-mapping URL templates from: this conductor's own
    `[database] connection` and `[DEFAULT] transport_url` (CellMapping.format_db_url)."""

    database_connection: str | None = None
    transport_url: str | None = None


@dataclass(slots=True)
class ClassCall:
    ctx: RequestContext
    db: Database
    objname: str
    # The caller's manifest: every object in the tree of `objname` at the caller's version.
    versions: dict[str, str]
    url_defaults: UrlDefaults = field(default_factory=UrlDefaults)
    # Where the notifications nova would send from this method go (off the RPC's time).
    notifier: Notifications = field(default=NO_NOTIFICATIONS)

    def version_of(self, objname: str) -> str:
        """Version to build `objname` at: the caller's, else nova 34's."""
        return self.versions.get(objname) or NOVA_OBJECT_VERSIONS[objname]


@dataclass(slots=True)
class InstanceCall(ClassCall):
    obj: ObjectPrimitive = field(default_factory=lambda: ObjectPrimitive("", "", {}))
    # Field name -> new primitive value, returned to the caller as object_action's updates.
    updates: dict[str, Any] = field(default_factory=dict)

    def set_field(self, name: str, value: Any) -> None:
        self.obj.data[name] = value
        self.updates[name] = value

    def reset_changes(self) -> None:
        """obj_reset_changes(): what nova's save()/create() do when they finish."""
        self.obj.changes.clear()

    def load_row(self, data: dict[str, Any]) -> None:
        """`_from_db_object` then `obj_reset_changes()`: report every field whose value moved."""
        for name, value in data.items():
            if self.obj.data.get(name, _UNSET) != value:
                self.set_field(name, value)
        self.reset_changes()


_UNSET = object()


def remotable_classmethod(
    objname: str, method: str, *, database: Literal["cell", "api"] = "cell"
) -> Callable[[H], H]:
    def register(handler: H) -> H:
        _check_known(objname)
        _CLASS_METHODS[(objname, method)] = handler
        if database == "api":
            _API_DATABASE.add((objname, method))
        return handler

    return register


def remotable(objname: str, method: str) -> Callable[[H], H]:
    def register(handler: H) -> H:
        _check_known(objname)
        _INSTANCE_METHODS[(objname, method)] = handler
        return handler

    return register


def _check_known(objname: str) -> None:
    if objname not in NOVA_OBJECT_VERSIONS:
        raise ValueError(f"{objname} is not a nova 34.0.0 object")


def class_handler(objname: str, method: str) -> ClassHandler | None:
    return _CLASS_METHODS.get((objname, method))


def instance_handler(objname: str, method: str) -> InstanceHandler | None:
    return _INSTANCE_METHODS.get((objname, method))


def uses_api_database(objname: str, method: str) -> bool:
    return (objname, method) in _API_DATABASE


def native_pairs() -> list[tuple[str, str, str]]:
    """Every natively served (kind, objname, objmethod), sorted: for logs and check-config."""
    pairs = [("class", o, m) for o, m in _CLASS_METHODS]
    pairs += [("instance", o, m) for o, m in _INSTANCE_METHODS]
    return sorted(pairs, key=lambda p: (p[1], p[2], p[0]))


def served_names(
    forwarded: frozenset[tuple[str, str]] = frozenset(), *, api_database: bool = True
) -> list[str]:
    """ "Object.method" of every pair this configuration serves natively, sorted: without
    an API database, its objects' methods are not served."""
    return [
        f"{o}.{m}"
        for _, o, m in native_pairs()
        if (o, m) not in forwarded and (api_database or (o, m) not in _API_DATABASE)
    ]
