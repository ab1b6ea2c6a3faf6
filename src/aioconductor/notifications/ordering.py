"""A call's notifications reach the broker before its reply, as nova-conductor's do.

nova-conductor publishes a notification inside the call, so it is on its queue before the
caller has its answer; the caller's own next notification (a compute's
`compute.instance.create.start` after the conductor's `instance.update`) comes after it.
Ours are published by a task of their own (a slow broker must not hold the call), so the
server waits for the ones its call queued before it replies, but at most
`[aioconductor] notification_reply_wait` seconds: past that the reply goes, the notification
follows, and only the order between publishers can differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_PENDING: ContextVar[list[asyncio.Future[None]] | None] = ContextVar(
    "aioconductor_pending_notifications", default=None
)


@contextmanager
def collecting() -> Iterator[list[asyncio.Future[None]]]:
    """Within this block, every notification queued is also a future in the list,
    done once the broker confirmed it (or it was dropped)."""
    pending: list[asyncio.Future[None]] = []
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def tracked() -> asyncio.Future[None] | None:
    """A future for a notification queued now, when a call is collecting them."""
    pending = _PENDING.get()
    if pending is None:
        return None
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    pending.append(future)
    return future


def settle(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


async def sent(pending: list[asyncio.Future[None]], timeout: float) -> bool:
    """Wait up to `timeout` s for `pending`; True when all of them went."""
    if not pending:
        return True
    if timeout <= 0:
        return all(f.done() for f in pending)
    _, waiting = await asyncio.wait(pending, timeout=timeout)
    return not waiting
