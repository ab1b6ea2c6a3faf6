"""Find the endpoint method for a request by (namespace, version, method), as oslo does.

Endpoints are tried in order; a candidate has the request's namespace and a compatible
version. The first candidate exposing the method wins. No candidate at all is
UnsupportedVersion; candidates without the method is NoSuchMethod. Only methods marked with
`@rpc_method` are exposed, so helpers and attributes can never be called remotely (nova's
DefaultRPCAccessPolicy refuses `_private` names; we refuse everything unmarked).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aioconductor.context import RequestContext
from aioconductor.errors import NoSuchMethod, UnsupportedVersion
from aioconductor.messaging.envelope import RpcRequest
from aioconductor.messaging.versions import is_compatible

Handler = Callable[..., Awaitable[Any]]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
_RPC_MARK = "__aioconductor_rpc__"


def rpc_method(func: F) -> F:
    """Expose an endpoint coroutine method over RPC."""
    setattr(func, _RPC_MARK, True)
    return func


@dataclass(frozen=True, slots=True)
class EndpointTarget:
    namespace: str | None
    version: str


class Endpoint(Protocol):
    @property
    def target(self) -> EndpointTarget: ...


@dataclass(frozen=True, slots=True)
class _Registered:
    target: EndpointTarget
    methods: dict[str, Handler]


class Dispatcher:
    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._endpoints = [_Registered(e.target, _exposed(e)) for e in endpoints]

    def resolve(self, namespace: str | None, version: str, method: str) -> Handler:
        found_compatible = False
        for endpoint in self._endpoints:
            if endpoint.target.namespace != namespace:
                continue
            if not is_compatible(endpoint.target.version, version):
                continue
            found_compatible = True
            handler = endpoint.methods.get(method)
            if handler is not None:
                return handler
        if found_compatible:
            raise NoSuchMethod(method)
        raise UnsupportedVersion(version, method=method)

    async def dispatch(self, request: RpcRequest) -> Any:
        handler = self.resolve(request.namespace, request.version, request.method)
        return await call_with_args(handler, request.context, request.args)

    def advertised(self) -> list[EndpointTarget]:
        return [e.target for e in self._endpoints]


async def call_with_args(handler: Handler, ctx: RequestContext, args: dict[str, Any]) -> Any:
    # oslo passes args by keyword; a mismatch is the caller's TypeError, as in oslo.
    return await handler(ctx, **args)


def _exposed(endpoint: object) -> dict[str, Handler]:
    methods: dict[str, Handler] = {}
    for name, member in inspect.getmembers(type(endpoint)):
        if name.startswith("_") or not getattr(member, _RPC_MARK, False):
            continue
        methods[name] = getattr(endpoint, name)
    return methods
