"""Awaitable SQLAlchemy Engine and Connection for the worker, without `sqlalchemy.ext.asyncio`.

Importing `sqlalchemy.ext.asyncio` imports the ORM (for its AsyncSession): 6 MB of every
worker's RSS, for code the worker never runs. All the worker needs from that package is the
step that makes a blocking Engine or Connection method awaitable: run it in
`greenlet_spawn`, where the asyncio dialect (asyncmy, aiomysql) awaits the driver. This
module does that for the methods the worker calls. The pool, dialect, events and retries
stay SQLAlchemy's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.sql.base import Executable
from sqlalchemy.util import greenlet_spawn

Parameters = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class AsyncConnection:
    """One checked-out pooled connection; `AsyncEngine.connect()` hands it out."""

    __slots__ = ("sync_connection",)

    def __init__(self, sync_connection: Connection) -> None:
        self.sync_connection = sync_connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    @property
    def info(self) -> dict[Any, Any]:
        """The pooled connection's own dict: it outlives this checkout."""
        return self.sync_connection.info

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    async def execute(
        self, statement: Executable, parameters: Parameters = None
    ) -> CursorResult[Any]:
        """Run a Core statement. The dialect's cursor reads the whole result before this
        returns, so the rows can be read without awaiting."""
        result: CursorResult[Any] = await greenlet_spawn(
            self.sync_connection.execute, statement, parameters, _require_await=True
        )
        return result

    async def commit(self) -> None:
        await greenlet_spawn(self.sync_connection.commit)

    async def invalidate(self) -> None:
        """Close the driver connection and keep it out of the pool (it is known dead)."""
        await greenlet_spawn(self.sync_connection.invalidate)

    async def get_raw_connection(self) -> PoolProxiedConnection:
        """The pooled DBAPI connection; raises SQLAlchemy's error when it was lost."""
        raw: PoolProxiedConnection = await greenlet_spawn(
            getattr, self.sync_connection, "connection"
        )
        return raw

    async def close(self) -> None:
        """Back to the pool, through its reset (rollback unless clean) and check-in events."""
        await greenlet_spawn(self.sync_connection.close)


class _Checkout:
    """`async with engine.connect() as conn`: the connection goes back to the pool on exit,
    even when the task is cancelled meanwhile."""

    __slots__ = ("_conn", "_slots", "_sync_engine")

    def __init__(self, engine: AsyncEngine) -> None:
        self._sync_engine = engine.sync_engine
        self._slots = engine.slots
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        await self._slots.take()
        try:
            self._conn = AsyncConnection(await greenlet_spawn(self._sync_engine.connect))
        except BaseException:
            self._slots.give_back()
            raise
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            await _finish(self._conn.close())
        finally:
            self._slots.give_back()


class _PoolSlots:
    """The pool's size as a semaphore in front of it, and the pool's own wait behind it.

    SQLAlchemy's queue pool wakes a caller waiting for a connection only when another is
    checked in; a connect that fails gives its slot back without waking anyone. While the
    server drops connections (a restart under load) the callers queued behind the failed
    ones waited out the whole pool timeout and answered sqlalchemy's TimeoutError instead
    of the DBConnectionError a connect of their own gives. Here the slot is released
    either way and the next caller goes on to try; the pool itself never has to wait.
    """

    __slots__ = ("_free", "_size", "_timeout")

    def __init__(self, size: int, timeout: float) -> None:
        self._size = size
        self._timeout = timeout
        self._free = asyncio.Semaphore(size)

    @classmethod
    def of(cls, engine: Engine) -> _PoolSlots:
        pool: Any = engine.pool
        if isinstance(pool, QueuePool) and pool._max_overflow >= 0:
            return cls(pool.size() + pool._max_overflow, pool.timeout())
        return cls(2**31, 0)  # a pool that never makes a caller wait: no limit to keep

    async def take(self) -> None:
        if not self._free.locked():
            await self._free.acquire()  # free: returns without suspending
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._free.acquire()
        except TimeoutError:
            raise PoolTimeout(
                f"QueuePool limit of size {self._size} overflow 0 reached, "
                f"connection timed out, timeout {self._timeout:g}"
            ) from None

    def give_back(self) -> None:
        self._free.release()


async def _finish(closing_coro: Coroutine[Any, Any, None]) -> None:
    """Await a clean-up to its end in a task of its own. A cancellation that arrives meanwhile
    is raised after it: abandoned halfway, the check-in would leave the connection in neither
    the caller's hands nor the pool."""
    closing = asyncio.ensure_future(closing_coro)
    cancelled: asyncio.CancelledError | None = None
    while not closing.done():
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError as exc:
            if closing.done():
                break
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    closing.result()


class AsyncEngine:
    __slots__ = ("slots", "sync_engine")

    def __init__(self, sync_engine: Engine) -> None:
        self.sync_engine = sync_engine
        self.slots = _PoolSlots.of(sync_engine)

    @property
    def url(self) -> URL:
        return self.sync_engine.url

    def connect(self) -> _Checkout:
        return _Checkout(self)

    async def dispose(self) -> None:
        """Close every pooled connection that is checked in."""
        await greenlet_spawn(self.sync_engine.dispose)


def create_async_engine(url: str | URL, **options: Any) -> AsyncEngine:
    """An engine over an asyncio dialect (`mysql+asyncmy://`, `mysql+aiomysql://`); the
    dialect chooses SQLAlchemy's asyncio-safe queue pool."""
    engine = create_engine(url, **options)
    if not engine.dialect.is_async:
        raise ValueError(f"{engine.dialect.driver} is not an asyncio driver")
    event.listen(engine, "do_connect", _connect_or_lost)
    return AsyncEngine(engine)


# What libmysqlclient (and so PyMySQL, under nova) reports for a server that accepts and
# then closes before its greeting is read.
_LOST_AT_CONNECT = "Lost connection to MySQL server at 'reading initial communication packet'"
_CR_SERVER_LOST = 2013


def _connect_or_lost(
    dialect: Dialect, record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """The driver's connect, with every failure of its own code as a lost connection.

    A server that accepts and closes at once can make the drivers fail outside their DB-API
    errors: asyncmy on uvloop raises `RuntimeError("Transport does not expose socket
    instance")` when the reset lands before it sets TCP_NODELAY, and an incomplete greeting
    can end in a parsing error. SQLAlchemy passes those through unwrapped, past the
    reconnect retries and oslo.db's mapping, to the caller. As the DB-API error 2013 they are
    what they are: a connection lost while connecting, retried and then answered as
    DBConnectionError (db.failures).
    """
    dbapi = dialect.loaded_dbapi
    try:
        return dialect.connect(*cargs, **cparams)
    except dbapi.Error:
        raise
    except Exception as exc:
        reason = f"{_LOST_AT_CONNECT} ({type(exc).__name__}: {exc})"
        raise dbapi.OperationalError(_CR_SERVER_LOST, reason) from exc
