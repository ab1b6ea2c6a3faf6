"""Object primitives on the wire, built without the object framework.

`{"nova_object.name", "nova_object.namespace": "nova", "nova_object.version",
"nova_object.data": {only set fields}, "nova_object.changes": [...] (only when non-empty)}`.
DateTime fields are `%Y-%m-%dT%H:%M:%SZ` (no microseconds), IP fields are strings.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aioconductor.errors import UnsupportedObjectError

NAMESPACE = "nova"
_NAME = "nova_object.name"
_NS = "nova_object.namespace"
_VERSION = "nova_object.version"
_DATA = "nova_object.data"
_CHANGES = "nova_object.changes"

Primitive = dict[str, Any]


@dataclass(slots=True)
class ObjectPrimitive:
    """An incoming object, hydrated into plain data (field primitives kept as they came)."""

    name: str
    version: str
    data: dict[str, Any]
    changes: set[str] = field(default_factory=set)

    @classmethod
    def from_wire(cls, value: Any) -> ObjectPrimitive:
        if not isinstance(value, dict) or _NAME not in value:
            raise UnsupportedObjectError(objtype=type(value).__name__)
        if value.get(_NS) != NAMESPACE:
            raise UnsupportedObjectError(objtype=f"{value.get(_NS)}.{value.get(_NAME)}")
        data = value.get(_DATA) or {}
        if not isinstance(data, dict):
            raise UnsupportedObjectError(objtype=str(value.get(_NAME)))
        changes = value.get(_CHANGES) or []
        return cls(
            name=str(value[_NAME]),
            version=str(value.get(_VERSION, "1.0")),
            data=data,
            changes={c for c in changes if isinstance(c, str)},
        )

    def to_wire(self) -> Primitive:
        return make(self.name, self.version, self.data, self.changes)

    def is_set(self, name: str) -> bool:
        return name in self.data


def make(
    name: str, version: str, data: dict[str, Any], changes: set[str] | list[str] | None = None
) -> Primitive:
    primitive: Primitive = {_NAME: name, _NS: NAMESPACE, _VERSION: version, _DATA: data}
    if changes:
        primitive[_CHANGES] = sorted(changes)
    return primitive


def make_list(list_name: str, list_version: str, objects: list[Primitive]) -> Primitive:
    """An ObjectListBase primitive: `objects` is its only field and it carries no changes."""
    return make(list_name, list_version, {"objects": objects})


def is_object(value: Any) -> bool:
    return isinstance(value, dict) and _NAME in value


# --- field forms ------------------------------------------------------------------------


def dt_to_wire(value: datetime.datetime | None) -> str | None:
    """DateTime field primitive: UTC, seconds precision, `Z` suffix (ovo's DateTime)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    # strftime("%Y-%m-%dT%H:%M:%SZ") for the years a DATETIME column holds, at under half
    # the cost: a host's instance list carries about a thousand of these
    return value.isoformat(timespec="seconds") + "Z"


def dt_from_wire(value: Any) -> datetime.datetime | None:
    """Parse a DateTime primitive (or any ISO 8601 text) into a naive UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
    return parsed


_PERSISTENT_DATETIMES = frozenset({"created_at", "updated_at", "deleted_at"})


def row_fields(
    row: Mapping[str, Any],
    columns: Iterable[str],
    *,
    booleans: Iterable[str] = ("deleted",),
    datetimes: Iterable[str] = _PERSISTENT_DATETIMES,
) -> dict[str, Any]:
    """A `_from_db_object` that copies columns: DATETIMEs as wire text, TINYINT booleans as
    bools (a NULL stays None)."""
    as_bool, as_time = frozenset(booleans), frozenset(datetimes)
    data: dict[str, Any] = {}
    for name in columns:
        value = row[name]
        if name in as_time:
            value = dt_to_wire(value)
        elif name in as_bool and value is not None:
            value = bool(value)
        data[name] = value
    return data


def utcnow() -> datetime.datetime:
    """Naive UTC now, microseconds dropped as MySQL DATETIME (no fsp) stores it."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)


def soft_deleted(deleted_value: Any) -> bool:
    """nova's `deleted` column is 0 for live rows and the row id (or 1) for deleted ones."""
    return bool(deleted_value)
