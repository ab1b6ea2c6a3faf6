"""JSON as oslo_serialization.jsonutils writes it, and a faster parser for what arrives.

Writing stays on the standard encoder: its output (and the primitive forms of datetimes and
friends) is byte-for-byte what jsonutils sends. Reading goes through pydantic-core's parser,
two to three times faster on nova's envelopes, and falls back to `json` whenever it refuses
a document, so what `json` accepts (lone surrogates, UTF-16 bodies) still parses, and what
it refuses is refused with `json`'s own message.

Nesting is capped at MAX_DEPTH levels on both paths: pydantic-core stops at its own limit of
about 200, and the fallback is checked before `json`, whose recursion would otherwise end in
a RecursionError (a message that fails outside every "bad message" path). nova's deepest
requests are under 10 levels.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import json
import re
import uuid
from itertools import accumulate
from typing import Any

import pydantic_core

_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"

MAX_DEPTH = 200


class TooDeep(ValueError):
    """A document nested deeper than MAX_DEPTH."""


def to_primitive(value: Any) -> Any:
    """`default=` hook: what jsonutils.to_primitive makes of values json cannot encode."""
    if isinstance(value, datetime.datetime):
        return value.strftime(_DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, uuid.UUID | decimal.Decimal | ipaddress.IPv4Address):
        return str(value)
    if isinstance(value, ipaddress.IPv6Address | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, BaseException):
        return repr(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    return json.dumps(value, default=to_primitive)


def loads(text: str | bytes) -> Any:
    try:
        return pydantic_core.from_json(text)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise TooDeep(f"nested deeper than {MAX_DEPTH} levels") from None
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    # Only documents the fast parser refused get here: the scan costs nothing on the hot path.
    if nests_deeper_than(MAX_DEPTH, text):
        raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
    return json.loads(text)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nests_deeper_than(limit: int, text: str) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than `limit`; brackets
    inside strings do not count. Every step runs in C: about json.loads's own time."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    depths = accumulate(map(_DEPTH_STEP.__getitem__, brackets))
    return next(filter(limit.__lt__, depths), None) is not None


def dumps_plain(value: dict[str, str]) -> bytes:
    """A dict of strings (the outer envelope) as UTF-8 JSON, without the encoder's detour."""
    try:
        return pydantic_core.to_json(value)
    except pydantic_core.PydanticSerializationError:  # lone surrogates: json escapes them
        return json.dumps(value).encode()
