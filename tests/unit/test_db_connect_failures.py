"""A database that accepts a connection and drops it (a restarting server, HAProxy in front of
Galera with no node behind it) is a lost connection, whatever the driver raises for it: calls
get oslo.db's DBConnectionError, which nova's client rebuilds, as nova-conductor gives them.

asyncmy on uvloop raises a bare RuntimeError("Transport does not expose socket instance")
when the peer's reset lands before it sets TCP_NODELAY on the new socket; other connect-time
failures (an incomplete greeting) come out as the driver's own errors. No MariaDB needed: a
tiny TCP server plays the broken database.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvloop

from aioconductor.db.engine import Database
from aioconductor.db.failures import reported_as_oslo_db
from aioconductor.messaging.failures import failure_dict

# a MySQL handshake packet cut after its first bytes (length 74, seq 0, protocol 10, "5.5")
PARTIAL_GREETING = b"\x4a\x00\x00\x00\x0a5.5"


# A process of its own, not a thread: behind the GIL the reset would land late, after the
# driver's socket set-up, and the race would hardly ever come up.
_DROPPING_SERVER = """
import socket, struct, sys
greeting = bytes.fromhex(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(128)
print(listener.getsockname()[1], flush=True)
while True:
    peer, _ = listener.accept()
    if greeting:
        peer.sendall(greeting)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()
"""


@pytest.fixture(params=[b"", PARTIAL_GREETING], ids=["closes-at-once", "partial-greeting"])
def dropping_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """A server that accepts, sends `greeting`, and resets the connection; its port."""
    greeting: bytes = request.param
    server = subprocess.Popen(
        [sys.executable, "-c", _DROPPING_SERVER, greeting.hex()], stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.kill()
        server.wait(10)
        assert server.stdout is not None
        server.stdout.close()


def _failures(driver: str, port: int, call: Callable[[Database], Awaitable[Any]]) -> set[str]:
    """What 16 calls at once (48 connects, with the retries) answer through the endpoint's
    translation, on the worker's loop. No call waits for a pool slot: the statements' pool
    is a quarter of `pool_size`."""

    async def calls() -> set[str]:
        db = Database.from_url(f"mysql+{driver}://root@127.0.0.1:{port}/nova", pool_size=64)

        async def one() -> str:
            try:
                with reported_as_oslo_db():
                    await call(db)
            except Exception as exc:
                failure = failure_dict(exc)
                return f"{failure['module']}.{failure['class']}"
            return "answered"

        try:
            return set(await asyncio.gather(*(one() for _ in range(16))))
        finally:
            await db.close()

    answers: set[str] = uvloop.run(calls())
    return answers


async def _transaction(db: Database) -> Any:
    return await db.run(lambda conn: conn.info.get("unused"))


async def _statement(db: Database) -> Any:
    return await db.fetch_one("SELECT 1")


@pytest.mark.parametrize("driver", ["asyncmy", "aiomysql"])
@pytest.mark.parametrize("call", [_transaction, _statement], ids=["run", "fetch_one"])
def test_a_dropped_connection_is_answered_as_db_connection_error(
    dropping_server: int, driver: str, call: Callable[[Database], Awaitable[Any]]
) -> None:
    assert _failures(driver, dropping_server, call) == {"oslo_db.exception.DBConnectionError"}


@pytest.mark.parametrize("driver", ["asyncmy", "aiomysql"])
def test_every_failed_connect_is_a_lost_connection_of_the_driver(
    dropping_server: int, driver: str
) -> None:
    """Connects alone (no retries, no sleeps), so many that asyncmy's race comes up."""

    async def connects() -> set[str]:
        db = Database.from_url(f"mysql+{driver}://root@127.0.0.1:{dropping_server}/nova")
        seen: set[str] = set()
        try:
            for _ in range(150):
                try:
                    with reported_as_oslo_db():
                        async with db.engine.connect():
                            pass
                except Exception as exc:
                    seen.add(f"{failure_dict(exc)['module']}.{type(exc).__name__}")
            return seen
        finally:
            await db.close()

    assert uvloop.run(connects()) == {"oslo_db.exception.DBConnectionError"}


def test_callers_waiting_for_a_pool_slot_get_the_failure_not_the_pool_timeout(
    dropping_server: int,
) -> None:
    """More calls than pooled connections while the server drops them (a restart under load):
    every call answers DBConnectionError at once, none waits out the 30 s pool timeout for a
    connection its failed neighbour never checked in."""

    async def calls() -> tuple[set[str], float]:
        db = Database.from_url(f"mysql+asyncmy://root@127.0.0.1:{dropping_server}/nova")
        loop = asyncio.get_running_loop()
        started = loop.time()

        async def one() -> str:
            try:
                with reported_as_oslo_db():
                    await db.fetch_one("SELECT 1")
            except Exception as exc:
                return f"{failure_dict(exc)['module']}.{type(exc).__name__}"
            return "answered"

        try:
            async with asyncio.timeout(20):  # the test's guard, under the pool timeout
                answers = set(await asyncio.gather(*(one() for _ in range(24))))
            return answers, loop.time() - started
        finally:
            await db.close()

    answers, took = uvloop.run(calls())
    assert answers == {"oslo_db.exception.DBConnectionError"}
    assert took < 10
