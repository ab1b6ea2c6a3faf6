"""The boot requests of the `bootrequests` workload: one made by nova's own code, many copies.

nova's objects write one boot request as nova-api does (bench/nova_side/boot_request.py):
the request spec, build request and instance mapping rows, and the
`schedule_and_build_instances` cast as oslo's transport was handed it. Each boot of the pool
is that request with its own instance uuid, request id, reservation id, project and row ids,
swapped in as text (the identifiers are random strings that occur nowhere else), so
thousands are written in seconds and every cast carries nova's own bytes otherwise.
"""

from __future__ import annotations

import copy
import json
import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# tables nova-api writes for each instance of a boot request, in its order
BOOT_TABLES = ("request_specs", "build_requests", "instance_mappings")
# stand-ins for values that are numbers in the cast (JSON strings until swapped)
_BUILD_REQUEST_ID = "__BENCH_BUILD_REQUEST_ID__"
_REQUEST_SPEC_ID = "__BENCH_REQUEST_SPEC_ID__"
_UNIQUE_ID = "__BENCH_UNIQUE_ID__"


@dataclass(frozen=True)
class BootIdentity:
    """What differs between two boots of the pool."""

    index: int  # 0-based; the rows' ids are index + 1
    uuid: str
    request_id: str
    reservation_id: str
    project_id: str

    @property
    def row_id(self) -> int:
        return self.index + 1


def reservation_id(rng: random.Random) -> str:
    """As nova's `utils.generate_uid('r')`: "r-" and 8 characters."""
    return "r-" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))


def identities(count: int, projects: list[str], seed: int = 0) -> list[BootIdentity]:
    """`count` boots, dealt round-robin to `projects` (quota counting is per project)."""
    if not projects:
        raise ValueError("at least one project")
    rng = random.Random(seed)
    return [
        BootIdentity(
            index=i,
            uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            request_id=f"req-{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            reservation_id=reservation_id(rng),
            project_id=projects[i % len(projects)],
        )
        for i in range(count)
    ]


def swap(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class BootTemplate:
    """The one request nova made, ready to be copied."""

    identity: BootIdentity
    cast_topic: str  # where the cast went: "conductor"
    cast_inner: str  # the inner oslo message, ids and `_unique_id` as placeholders
    rows: dict[str, dict[str, Any]]  # per table of BOOT_TABLES, the template's row (no id)

    @classmethod
    def from_recording(
        cls, identity: BootIdentity, cast: dict[str, Any], rows: dict[str, dict[str, Any]]
    ) -> BootTemplate:
        """`cast`: {topic, context, message} as the nova side recorded it; `rows`: the
        template's row of each table, as read back from the API database."""
        message = copy.deepcopy(cast["message"])
        if message.get("method") != "schedule_and_build_instances":
            raise ValueError(f"not a boot request: {message.get('method')!r}")
        args = message["args"]
        (build_request,) = args["build_requests"]  # one instance per boot request
        (spec,) = args["request_specs"]
        build_request["nova_object.data"]["id"] = _BUILD_REQUEST_ID
        spec["nova_object.data"]["id"] = _REQUEST_SPEC_ID
        # the envelope oslo's rabbit driver makes of a cast: the message, a unique id, and
        # the context's keys prefixed (amqpdriver._send, rpc_amqp.pack_context)
        inner = dict(message)
        inner["_unique_id"] = _UNIQUE_ID
        inner.update({f"_context_{k}": v for k, v in cast["context"].items()})
        for table in BOOT_TABLES:
            if table not in rows:
                raise ValueError(f"no template row in {table}")
        clean = {t: {k: v for k, v in rows[t].items() if k != "id"} for t in BOOT_TABLES}
        return cls(identity, cast["topic"], json.dumps(inner), clean)

    def _pairs(self, boot: BootIdentity) -> list[tuple[str, str]]:
        mine = self.identity
        return [
            (mine.uuid, boot.uuid),
            (mine.request_id, boot.request_id),
            (mine.reservation_id, boot.reservation_id),
            (mine.project_id, boot.project_id),
        ]

    def cast_body(self, boot: BootIdentity, unique_id: str | None = None) -> bytes:
        """The message body oslo would publish for `boot`'s cast."""
        inner = swap(self.cast_inner, self._pairs(boot))
        inner = inner.replace(f'"{_BUILD_REQUEST_ID}"', str(boot.row_id))
        inner = inner.replace(f'"{_REQUEST_SPEC_ID}"', str(boot.row_id))
        inner = inner.replace(_UNIQUE_ID, unique_id or uuid.uuid4().hex)
        return json.dumps({"oslo.version": "2.0", "oslo.message": inner}).encode()

    def row(self, table: str, boot: BootIdentity) -> dict[str, Any]:
        """`table`'s row for `boot`: text columns with the identifiers swapped, id its own."""
        pairs = self._pairs(boot)
        out: dict[str, Any] = {"id": boot.row_id}
        for column, value in self.rows[table].items():
            out[column] = swap(value, pairs) if isinstance(value, str) else value
        return out

    def rows_of(self, table: str, boots: list[BootIdentity]) -> Iterator[dict[str, Any]]:
        return (self.row(table, boot) for boot in boots)


def instance_uuid_of(cast_body: bytes) -> tuple[str, str]:
    """(method, instance uuid) of a compute's cast (`build_and_run_instance`)."""
    envelope = json.loads(cast_body)
    inner = json.loads(envelope["oslo.message"]) if "oslo.message" in envelope else envelope
    instance = inner.get("args", {}).get("instance") or {}
    data = instance.get("nova_object.data", {}) if isinstance(instance, dict) else {}
    return str(inner.get("method")), str(data.get("uuid", ""))
