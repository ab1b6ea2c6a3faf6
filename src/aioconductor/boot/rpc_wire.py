"""oslo's RPC request and reply as a caller writes and reads them (envelope 2.0).

A request's inner dict has the keys in the order oslo's `RPCClient` and the rabbit driver
add them: `method`, `args`, `namespace` (if any), `version`, then for a call `_msg_id`,
`_reply_q`, `_timeout` (the call-monitor timeout, None without one), then `_unique_id` and
the caller's context as `_context_<key>`. A reply carries `result`, `failure` (oslo's
serialised exception, a JSON string), `ending` (False: a call-monitor heartbeat) and
`_msg_id`, `_unique_id`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aioconductor.messaging import jsonwire
from aioconductor.messaging.envelope import wrap

_REMOTE_SUFFIX = "_Remote"


class RemoteCallError(Exception):
    """The callee raised: what oslo's client rebuilds (or wraps in RemoteError) and raises.

    `exc_type` and `module` name the remote exception (`NoValidHost`, `nova.exception`),
    `kwargs` are its format arguments (nova's `code`, `reason`, ...), `remote_args` its
    positional arguments, `message` its text and `traceback` the callee's lines.
    """

    def __init__(
        self,
        exc_type: str,
        module: str,
        message: str,
        kwargs: dict[str, Any],
        traceback: list[str],
        remote_args: list[Any] | None = None,
    ) -> None:
        super().__init__(f"{module}.{exc_type}: {message}")
        self.exc_type = exc_type
        self.module = module
        self.message = message
        self.kwargs = kwargs
        self.traceback = traceback
        self.remote_args = remote_args if remote_args is not None else [message]

    @classmethod
    def from_failure(cls, failure: str) -> RemoteCallError:
        """From the `failure` string of a reply (oslo's `serialize_remote_exception`)."""
        data = jsonwire.loads(failure)
        if not isinstance(data, dict):
            return cls("RemoteError", "oslo_messaging.rpc.client", str(data), {}, [])
        exc_type = str(data.get("class") or "Exception")
        module = str(data.get("module") or "builtins")
        # a re-raised remote exception keeps its original names, as oslo restores them
        if exc_type.endswith(_REMOTE_SUFFIX):
            exc_type = exc_type[: -len(_REMOTE_SUFFIX)]
        if module.endswith(_REMOTE_SUFFIX):
            module = module[: -len(_REMOTE_SUFFIX)]
        kwargs = data.get("kwargs")
        tb = data.get("tb")
        args = data.get("args")
        return cls(
            exc_type,
            module,
            str(data.get("message") or ""),
            kwargs if isinstance(kwargs, dict) else {},
            [str(line) for line in tb] if isinstance(tb, list) else [],
            list(args) if isinstance(args, list) else None,
        )


def new_id() -> str:
    return uuid.uuid4().hex


def encode_request(
    method: str,
    args: dict[str, Any],
    context: dict[str, Any],
    *,
    version: str,
    namespace: str | None,
    unique_id: str,
    reply: tuple[str, str, float | None] | None = None,
) -> bytes:
    """The request body; `reply` is (msg_id, reply_q, call-monitor timeout) for a call."""
    inner: dict[str, Any] = {"method": method, "args": args}
    if namespace is not None:
        inner["namespace"] = namespace
    inner["version"] = version
    if reply is not None:
        msg_id, reply_q, monitor = reply
        inner["_msg_id"] = msg_id
        inner["_reply_q"] = reply_q
        inner["_timeout"] = monitor
    inner["_unique_id"] = unique_id
    for key, value in context.items():
        inner[f"_context_{key}"] = value
    return wrap(jsonwire.dumps(inner))


@dataclass(frozen=True, slots=True)
class Reply:
    msg_id: str | None
    unique_id: str | None
    result: Any
    failure: str | None
    ending: bool


def decode_reply(body: bytes) -> Reply:
    """A reply body of either envelope version; ValueError when it is not one."""
    outer = jsonwire.loads(body)
    if not isinstance(outer, dict):
        raise ValueError("reply is not a JSON object")
    inner: Any = outer
    if "oslo.message" in outer:
        text = outer["oslo.message"]
        inner = jsonwire.loads(text) if isinstance(text, str) else None
        if not isinstance(inner, dict):
            raise ValueError("oslo.message is not a JSON object")
    msg_id, unique_id = inner.get("_msg_id"), inner.get("_unique_id")
    failure = inner.get("failure")
    return Reply(
        msg_id=msg_id if isinstance(msg_id, str) else None,
        unique_id=unique_id if isinstance(unique_id, str) else None,
        result=inner.get("result"),
        failure=failure if isinstance(failure, str) and failure else None,
        ending=bool(inner.get("ending", False)),
    )
