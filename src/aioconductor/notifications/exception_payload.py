"""An exception as nova-conductor holds it when it notifies about it.

A failure from a callee is what oslo's client rebuilds: a `nova.exception` class becomes
`<Class>_Remote` in module `nova.exception_Remote`, its str() the message followed by the
callee's traceback lines; a builtin keeps its class with that text as its first argument;
any other module becomes `oslo_messaging.rpc.client.RemoteError`. A nova exception's repr
(what the legacy payload's `reason` is) is `str(self.__dict__)` with its class added:
`{'kwargs': {...}, 'message': '...', 'class': 'NoValidHost_Remote'}`.

ExceptionPayload 1.1 names the module and function that raised it (`inspect.trace()`'s
last frame, the handler being inside the `except`): our exceptions are raised elsewhere, so
the caller passes nova's frame (`raised_in`), or `RAISE_SITES` gives it for the failures a
boot meets. Its `traceback` is ours, formatted as nova formats it (`','.join` of the lines),
ending with the exception as nova names it.
"""

from __future__ import annotations

import traceback as tb
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aioconductor.errors import NovaError, RemoteFailure

EXCEPTION_PAYLOAD_VERSION = "1.1"
_REMOTE = "_Remote"
_BUILTINS = ("builtins", "exceptions")
_REBUILT = ("nova.exception", *_BUILTINS)  # rpc.get_allowed_exmods
# Where nova-conductor 34 meets each failure of a boot: ExceptionPayload's module and function
_AMQP = "oslo_messaging._drivers.amqpdriver"
RAISE_SITES: dict[str, tuple[str, str]] = {
    "remote": (_AMQP, "_send"),  # any callee's exception, re-raised by the RPC client
    "MessagingTimeout": (_AMQP, "get"),
    "HostMappingNotFound": ("nova.objects.host_mapping", "_get_by_host_from_db"),
    "MaxRetriesExceeded": ("nova.scheduler.utils", "populate_retry"),
    "TooManyInstances": ("nova.compute.utils", "check_num_instances_quota"),
    "UnsupportedPolicyException": ("nova.scheduler.utils", "_get_group_details"),
}


@dataclass(frozen=True, slots=True)
class NovaException:
    name: str  # type(exc).__name__ in nova
    module: str  # type(exc).__module__ in nova
    text: str  # str(exc)
    legacy: str  # repr(exc): the legacy payload's `reason`
    raised_in: tuple[str, str]  # (module, function) of the frame that raised it


def _repr(name: str, args: tuple[Any, ...]) -> str:
    """BaseException.__repr__."""
    if len(args) == 1:
        return f"{name}({args[0]!r})"
    return f"{name}{args!r}"


def _nova_repr(name: str, kwargs: Mapping[str, Any], message: Any) -> str:
    """NovaException.__repr__: its attributes and its class."""
    return str({"kwargs": dict(kwargs), "message": message, "class": name})


def _remote(exc: Any) -> NovaException | None:
    """A callee's failure (boot.rpc_wire.RemoteCallError), rebuilt as oslo rebuilds it."""
    names = ("exc_type", "module", "message", "kwargs", "traceback", "remote_args")
    if not all(hasattr(exc, n) for n in names):
        return None
    site = RAISE_SITES["remote"]
    cls, module, message = str(exc.exc_type), str(exc.module), str(exc.message)
    lines = [str(line) for line in exc.traceback]
    text = message + "\n" + "\n".join(lines)
    args = tuple(exc.remote_args)
    if module in _BUILTINS:  # a builtin keeps its class: the text becomes its first arg
        args = (text, *args[1:])
        return NovaException(cls, "builtins", str(args[0]) if len(args) == 1 else str(args),
                             _repr(cls, args), site)  # fmt: skip
    if module not in _REBUILT:
        value = f"Remote error: {cls} {message}\n{lines}."
        return NovaException(
            "RemoteError", "oslo_messaging.rpc.client", value, _repr("RemoteError", (value,)), site
        )
    name = cls + _REMOTE
    kwargs = exc.kwargs if isinstance(exc.kwargs, dict) else {}
    nova_message = args[0] if args else message
    return NovaException(name, module + _REMOTE, text, _nova_repr(name, kwargs, nova_message), site)


def nova_exception(exc: BaseException, raised_in: tuple[str, str] | None = None) -> NovaException:
    """How nova would hold `exc` at the point it notifies."""
    found = _remote(exc)
    if found is None:
        if isinstance(exc, RemoteFailure):
            name, module = exc.remote_class, exc.remote_module
        elif type(exc).__name__ == "RpcTimeout":  # boot.rpc_client's, oslo's MessagingTimeout
            name, module = "MessagingTimeout", "oslo_messaging.exceptions"
        else:
            name, module = type(exc).__name__, type(exc).__module__
        text = str(exc)
        if isinstance(exc, NovaError):
            legacy = _nova_repr(name, exc.kwargs, exc.message)
        else:
            legacy = _repr(name, exc.args)
        site = RAISE_SITES.get(name) or _own_frame(exc)
        found = NovaException(name, module, text, legacy, site)
    if raised_in is not None:
        found = NovaException(found.name, found.module, found.text, found.legacy, raised_in)
    return found


def _own_frame(exc: BaseException) -> tuple[str, str]:
    """The frame that raised `exc` here: the best guess for a failure nova meets elsewhere."""
    last = exc.__traceback__
    if last is None:
        return ("unknown", "unknown")
    while last.tb_next is not None:
        last = last.tb_next
    frame = last.tb_frame
    return (str(frame.f_globals.get("__name__", "unknown")), frame.f_code.co_name)


def traceback_text(exc: BaseException, held: NovaException) -> str:
    """ExceptionPayload.traceback: the formatted traceback's lines joined by commas, its last
    line naming the exception as nova does."""
    lines = tb.format_exception(exc)
    if exc.__traceback__ is None:  # never raised: nova's always was
        lines.insert(0, "Traceback (most recent call last):\n")
    qualified = held.name if held.module in _BUILTINS else f"{held.module}.{held.name}"
    lines[-1] = f"{qualified}: {held.text}\n" if held.text else f"{qualified}\n"
    return ",".join(lines)


def exception_payload(exc: BaseException, held: NovaException) -> dict[str, Any]:
    """ExceptionPayload 1.1 (ExceptionPayload.from_exception)."""
    return {
        "nova_object.name": "ExceptionPayload",
        "nova_object.namespace": "nova",
        "nova_object.version": EXCEPTION_PAYLOAD_VERSION,
        "nova_object.data": {
            "module_name": held.raised_in[0],
            "function_name": held.raised_in[1],
            "exception": held.name,
            "exception_message": held.text,
            "traceback": traceback_text(exc, held),
        },
    }
