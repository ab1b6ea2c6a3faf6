"""Decode requests and encode replies in oslo's message envelope (version 2.0).

Body: `{"oslo.version": "2.0", "oslo.message": "<JSON of the inner dict>"}`; a dict without
those keys is a legacy (1.0) message used as it is. The inner dict holds method, args,
namespace, version, `_msg_id`, `_reply_q`, `_timeout`, `_unique_id` and `_context_*` keys.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from aioconductor.context import RequestContext
from aioconductor.messaging import jsonwire
from aioconductor.messaging.versions import is_compatible

ENVELOPE_VERSION = "2.0"
_VERSION_KEY = "oslo.version"
_MESSAGE_KEY = "oslo.message"
_CONTEXT_PREFIX = "_context_"


class BadMessage(Exception):
    """A request we refuse; `msg_id`/`reply_q` are set when the caller can still be told."""

    def __init__(self, reason: str, msg_id: str | None = None, reply_q: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.msg_id = msg_id
        self.reply_q = reply_q


class _RequestModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    method: StrictStr = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    namespace: StrictStr | None = None
    version: StrictStr = "1.0"
    msg_id: StrictStr | None = Field(None, alias="_msg_id")
    reply_q: StrictStr | None = Field(None, alias="_reply_q")
    timeout: float | None = Field(None, alias="_timeout", ge=0)
    unique_id: StrictStr | None = Field(None, alias="_unique_id")


@dataclass(slots=True)
class RpcRequest:
    method: str
    args: dict[str, Any]
    namespace: str | None
    version: str
    msg_id: str | None
    reply_q: str | None
    timeout: float | None
    unique_id: str | None
    context: RequestContext

    @property
    def wants_reply(self) -> bool:
        return self.msg_id is not None and self.reply_q is not None


def _unwrap(body: bytes) -> dict[str, Any]:
    try:
        outer = jsonwire.loads(body)
    except ValueError as exc:
        raise BadMessage(f"body is not JSON: {exc}") from None
    if not isinstance(outer, dict):
        raise BadMessage(f"body is a JSON {type(outer).__name__}, not an object")
    if _VERSION_KEY not in outer or _MESSAGE_KEY not in outer:
        return outer  # legacy 1.0 message: the dict itself
    version = outer[_VERSION_KEY]
    if not isinstance(version, str) or not is_compatible(ENVELOPE_VERSION, version):
        raise BadMessage(f"unsupported envelope version {version!r} (this server speaks 2.0)")
    inner_text = outer[_MESSAGE_KEY]
    if not isinstance(inner_text, str):
        raise BadMessage("oslo.message is not a JSON string")
    try:
        inner = jsonwire.loads(inner_text)
    except ValueError as exc:
        raise BadMessage(f"oslo.message is not JSON: {exc}") from None
    if not isinstance(inner, dict):
        raise BadMessage("oslo.message is not a JSON object")
    return inner


def _reply_address(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    msg_id, reply_q = raw.get("_msg_id"), raw.get("_reply_q")
    if isinstance(msg_id, str) and isinstance(reply_q, str):
        return msg_id, reply_q
    return None, None


def decode_request(body: bytes, max_bytes: int) -> RpcRequest:
    if len(body) > max_bytes:
        # Still answer the caller: the envelope header is cheap to find at the start.
        msg_id, reply_q = _reply_address(_peek(body))
        raise BadMessage(
            f"message of {len(body)} bytes exceeds max_message_bytes={max_bytes}", msg_id, reply_q
        )
    try:
        raw = _unwrap(body)
    except BadMessage as bad:
        bad.msg_id, bad.reply_q = _reply_address(_peek(body))
        raise
    context = {
        k[len(_CONTEXT_PREFIX) :]: v for k, v in raw.items() if k.startswith(_CONTEXT_PREFIX)
    }
    try:
        model = _RequestModel.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg_id, reply_q = _reply_address(raw)
        raise BadMessage(f"invalid request: {where}: {err['msg']}", msg_id, reply_q) from None
    return RpcRequest(
        method=model.method,
        args=model.args,
        namespace=model.namespace,
        version=model.version,
        msg_id=model.msg_id,
        reply_q=model.reply_q,
        timeout=model.timeout,
        unique_id=model.unique_id,
        context=RequestContext.from_wire(context, client_timeout=model.timeout),
    )


def reply_address(body: bytes) -> tuple[str | None, str | None]:
    """(msg_id, reply_q) of any body, when they can be read: to answer a refused call."""
    return _reply_address(_peek(body))


def _peek(body: bytes) -> dict[str, Any]:
    """Best effort: the inner dict of any envelope version, to find where to answer."""
    try:
        outer = jsonwire.loads(body)
        inner = outer.get(_MESSAGE_KEY, outer) if isinstance(outer, dict) else {}
        if isinstance(inner, str):
            inner = jsonwire.loads(inner)
    except ValueError:  # also too deep to parse, or not UTF-8: the address may still be read
        return _scan_reply_address(body)
    return inner if isinstance(inner, dict) else {}


# `"_msg_id": "…"`, or `\"_msg_id\": \"…\"` inside the JSON string of oslo.message.
_ADDRESS_FIELD = re.compile(rb'\\?"(_msg_id|_reply_q)\\?"\s*:\s*\\?"([\w.:-]{1,255})\\?"')


def _scan_reply_address(body: bytes) -> dict[str, Any]:
    """The reply address of a body no parser accepts, read with a pattern: the caller is
    then told at once why its call failed instead of waiting out its timeout."""
    return {m[1].decode(): m[2].decode() for m in _ADDRESS_FIELD.finditer(body[: 1 << 20])}


def encode_reply(msg_id: str, result: Any, failure: str | None, *, ending: bool) -> bytes:
    inner = {
        "result": result,
        "failure": failure,
        "ending": ending,
        "_msg_id": msg_id,
        "_unique_id": next_unique_id(),
    }
    return wrap(jsonwire.dumps(inner))


# oslo's caller drops a reply whose `_unique_id` it saw recently; any string unique among a
# caller's replies does, and uuid4 costs a getrandom call per reply. Random per process and
# pid-tagged, so forked workers never share a sequence.
_unique_prefix = f"{os.urandom(6).hex()}{os.getpid() & 0xFFFF:04x}"
_unique_counter = itertools.count(int.from_bytes(os.urandom(4), "big"))


def next_unique_id() -> str:
    """32 hex digits, as uuid4().hex gives."""
    return f"{_unique_prefix}{next(_unique_counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def wrap(inner_json: str) -> bytes:
    return jsonwire.dumps_plain({_VERSION_KEY: ENVELOPE_VERSION, _MESSAGE_KEY: inner_json})
