"""A worker's status as the supervisor sees it: a few numbers in memory both processes map.

The worker writes them once a second from its event loop; the supervisor reads them ten
times a second without asking the worker anything, so a worker whose loop is stuck still
shows its last heartbeat's age. The page is a memfd (a temporary file where there is none)
whose descriptor the worker inherits, so no multiprocessing machinery (and no resource
tracker process) is needed. A sequence number around every write, odd while writing, lets
the reader retry instead of reading half of one write and half of the next. What keeps the
worker from being ready ("broker blocked: memory alarm", "link quiet for 12 s") travels as
short lines of text in a fixed-size field.
"""

from __future__ import annotations

import mmap
import os
import struct
import tempfile
from typing import NamedTuple

_SEQ = struct.Struct("<q")
_NOT_READY_BYTES = 1024
_FIELDS = struct.Struct(f"<d??qqbH{_NOT_READY_BYTES}s")
_SIZE = _SEQ.size + _FIELDS.size
_READ_TRIES = 1000


class WorkerStatus(NamedTuple):
    at: float  # time.time() of the worker's last heartbeat; 0 before its first
    connected: bool
    consuming: bool
    in_flight: int
    served: int
    db_ok: bool | None  # None: not known yet
    not_ready: tuple[str, ...] = ()  # why the worker cannot take calls now; () when it can


_NOT_STARTED = WorkerStatus(0.0, False, False, 0, 0, None, ("starting",))


class StatusPage:
    """One worker's status page. The supervisor `create`s it and hands `fd` to the worker,
    which `attach`es to it; only the worker writes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, _SIZE)
        self._seq = 0

    @classmethod
    def create(cls) -> StatusPage:
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("aioconductor-worker-status")
        else:  # pragma: no cover - not Linux
            handle, path = tempfile.mkstemp(prefix="aioconductor-status-")
            os.unlink(path)
            fd = handle
        os.ftruncate(fd, _SIZE)
        page = cls(fd)
        page.write(_NOT_STARTED)
        return page

    @classmethod
    def attach(cls, fd: int) -> StatusPage:
        page = cls(fd)
        page._seq = _SEQ.unpack_from(page._map, 0)[0]
        return page

    def write(self, status: WorkerStatus) -> None:
        db = -1 if status.db_ok is None else int(status.db_ok)
        reasons = _encode_lines(status.not_ready)
        self._seq += 1
        _SEQ.pack_into(self._map, 0, self._seq)
        _FIELDS.pack_into(
            self._map,
            _SEQ.size,
            status.at,
            status.connected,
            status.consuming,
            status.in_flight,
            status.served,
            db,
            len(reasons),
            reasons,
        )
        self._seq += 1
        _SEQ.pack_into(self._map, 0, self._seq)

    def read(self) -> WorkerStatus:
        for _ in range(_READ_TRIES):
            before = _SEQ.unpack_from(self._map, 0)[0]
            fields = _FIELDS.unpack_from(self._map, _SEQ.size)
            if before % 2 == 0 and _SEQ.unpack_from(self._map, 0)[0] == before:
                break
        # else: a writer that died mid-write; its last fields are as good as any
        at, connected, consuming, in_flight, served, db, size, reasons = fields
        not_ready = tuple(reasons[:size].decode(errors="replace").splitlines())
        return WorkerStatus(
            at, connected, consuming, in_flight, served, None if db < 0 else bool(db), not_ready
        )

    def close(self) -> None:
        self._map.close()
        os.close(self.fd)


def _encode_lines(lines: tuple[str, ...]) -> bytes:
    """The lines as UTF-8, cut (at a character boundary) to what the page holds."""
    data = "\n".join(line.replace("\n", " ") for line in lines).encode()
    if len(data) <= _NOT_READY_BYTES:
        return data
    return data[: _NOT_READY_BYTES - 3].decode(errors="ignore").encode() + b"..."
