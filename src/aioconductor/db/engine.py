"""The database handle: one engine per worker (db.connection), transactions with nova's retry rules.

nova wraps its DB API in oslo.db's `wrap_db_retry(max_retries=5, retry_on_deadlock=True)`;
`Database.run` does the same for deadlocks and also retries once after a lost connection
(the server restarted), instead of paying a pre-ping round trip on every checkout.

A transaction is the driver's own (autocommit is off): no BEGIN is sent, and a unit of work
that ran only `db.raw` statements commits on the driver directly. SQLAlchemy's begin/commit
each cost a greenlet (and a fresh frame stack) per call. On any failure the connection goes
back to the pool un-committed, and the pool's reset rolls it back.

A unit of work that is one statement (a single SELECT, INSERT or UPDATE) runs instead on a
second, small pool of autocommit connections (`fetch_all`, `fetch_one`, `execute`,
`insert_row`): there a statement is a transaction of its own, with the same single snapshot
and the same atomicity, and no COMMIT round trip follows it. About a third of a boot's
calls are such reads.

The pool's reset-on-return ROLLBACK is skipped for connections whose transaction we just
committed (a whole round trip per RPC otherwise); every other check-in still rolls back.

On asyncmy (the default driver) each pooled connection keeps up to `db_statement_cache`
server-side prepared statements, so the hot statements run in the binary protocol: no
escaping on the way out, no text-to-value parsing on the way back, and the instance read
costs about a sixth of aiomysql's CPU (docs/benchmarks-history.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from aioconductor.config.settings import Settings
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)
T = TypeVar("T")

_DEADLOCK_ERRNOS = {1213, 1205}  # ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
_MAX_DEADLOCK_RETRIES = 5
_RETRY_INTERVAL = 0.1
_MAX_RETRY_INTERVAL = 2.0
# connection-record flag: its last transaction ended in a successful COMMIT
_CLEAN = "aioc_transaction_ended"


# What a call's database work may take, retries and pool wait included, when nothing says:
# oslo.messaging's rpc_response_timeout default, how long nova's caller waits for an answer.
DEFAULT_WORK_TIMEOUT = 60.0
# `ping` reports a database that does not answer this fast as down.
_PING_TIMEOUT = 5.0


class Database:
    def __init__(
        self,
        engine: AsyncEngine,
        statements: AsyncEngine,
        work_timeout: float = DEFAULT_WORK_TIMEOUT,
    ) -> None:
        self.engine = engine
        self.statements = statements  # autocommit connections for one-statement work
        self.work_timeout = work_timeout

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        pool_size: int = 10,
        pool_timeout: float = 30.0,
        statement_cache: int = 0,
        work_timeout: float = DEFAULT_WORK_TIMEOUT,
        pool_recycle: int = 3600,
    ) -> Database:
        asyncmy = url.startswith("mysql+asyncmy")
        options: dict[str, Any] = {
            "max_overflow": 0,
            "pool_timeout": pool_timeout,
            "pool_recycle": pool_recycle,  # nova's connection_recycle_time
            "pool_reset_on_return": None,  # see _reset_unless_clean
            "connect_args": {"stmt_cache_size": statement_cache} if asyncmy else {},
        }
        engine = create_async_engine(url, pool_size=pool_size, **options)
        # a statement holds its connection for one round trip: a quarter of the pool serves
        statements = create_async_engine(
            url, pool_size=max(2, pool_size // 4), isolation_level="AUTOCOMMIT", **options
        )
        for each in (engine, statements):
            if asyncmy:
                event.listen(each.sync_engine, "connect", _small_receive_buffer)
                event.listen(each.sync_engine, "checkin", _shrink_receive_buffer)
        event.listen(engine.sync_engine, "reset", _reset_unless_clean)
        event.listen(engine.sync_engine, "checkout", _forget_clean)
        return cls(engine, statements, work_timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        url = settings.async_database_url()
        if url is None:
            raise ValueError("[database] connection is not set")
        return cls.from_url(
            url,
            pool_size=settings.db_pool_size,
            pool_timeout=settings.aio.db_pool_timeout,
            statement_cache=settings.aio.db_statement_cache,
            work_timeout=float(settings.rpc_response_timeout),
        )

    @classmethod
    def for_api(cls, settings: Settings) -> Database | None:
        """The API database's handle, or None without `[api_database] connection`.

        Its pool is sized by `[api_database] max_pool_size` (oslo.db's default 5), as nova
        sizes it: only cell-mapping lookups run on it, not the hot path.
        """
        url = settings.async_api_database_url()
        if url is None:
            return None
        options = settings.api_database
        return cls.from_url(
            url,
            pool_size=options.max_pool_size,
            pool_timeout=options.pool_timeout or settings.aio.db_pool_timeout,
            statement_cache=settings.aio.db_statement_cache,
            work_timeout=float(settings.rpc_response_timeout),
            pool_recycle=options.connection_recycle_time,
        )

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one transaction; retry the whole of it on deadlock or lost server."""
        return await self._attempts(self.engine, work, commit=True)

    async def fetch_all(self, sql: str, args: raw.Args = ()) -> list[dict[str, Any]]:
        """One SELECT on its own (autocommit: no COMMIT round trip), with run's retries."""
        return await self._attempts(
            self.statements, lambda conn: raw.fetch_all(conn, sql, args), commit=False
        )

    async def fetch_one(self, sql: str, args: raw.Args = ()) -> dict[str, Any] | None:
        return await self._attempts(
            self.statements, lambda conn: raw.fetch_one(conn, sql, args), commit=False
        )

    async def execute(self, sql: str, args: raw.Args = ()) -> int:
        """One write on its own, committed by the server as it runs; the rows it matched."""
        return await self._attempts(
            self.statements, lambda conn: raw.execute(conn, sql, args), commit=False
        )

    async def insert_row(self, table: str, values: Mapping[str, Any]) -> int:
        """One INSERT on its own; the AUTO_INCREMENT id it gave."""
        return await self._attempts(
            self.statements, lambda conn: raw.insert_row(conn, table, values), commit=False
        )

    async def _attempts(
        self,
        engine: AsyncEngine,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        commit: bool,
    ) -> T:
        """`work`, retried as `_retryable` says, within `work_timeout` in all.

        Neither driver times out a read by default (nor does nova's PyMySQL), and asyncmy's
        connect timeout ends before the server's greeting: a server that stops answering
        with the connection open would hold the call and its pool slot for good. Past the
        time the caller waits for any answer (its rpc_response_timeout), the work is
        cancelled, which closes the connection under it (the drivers never pool a
        connection cut mid-read), and the call fails as a lost connection. One timer per
        call, no round trip.
        """
        try:
            async with asyncio.timeout(self.work_timeout):
                return await self._retried(engine, work, commit=commit)
        except TimeoutError:
            raise no_answer(engine, self.work_timeout) from None

    async def _retried(
        self,
        engine: AsyncEngine,
        work: Callable[[AsyncConnection], Awaitable[T]],
        *,
        commit: bool,
    ) -> T:
        delay = _RETRY_INTERVAL
        attempt = 0
        while True:
            attempt += 1
            try:
                async with engine.connect() as conn:
                    result = await work(conn)
                    if not commit:
                        return result
                    if conn.in_transaction():  # a Core statement ran: SQLAlchemy began
                        await conn.commit()
                    else:  # only db.raw statements: COMMIT on the driver, no greenlet
                        await raw.commit(conn)
                    conn.info[_CLEAN] = True
                    return result
            except DBAPIError as exc:
                retry, why = _retryable(exc, attempt)
                if not retry:
                    raise
                log.info("retrying DB transaction after %s (attempt %d)", why, attempt)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_RETRY_INTERVAL)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(_PING_TIMEOUT):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            return True
        except TimeoutError:
            log.warning("database ping failed: no answer in %g s", _PING_TIMEOUT)
            return False
        except Exception as exc:
            log.warning("database ping failed: %s", exc)
            return False

    async def close(self) -> None:
        await self.engine.dispose()
        await self.statements.dispose()


# asyncmy starts every connection with a 256 KiB receive buffer and grows it on demand; our
# rows fit in a few KiB, and 16 pooled connections would otherwise pin 4 MiB of zeroed pages.
_RECEIVE_BUFFER = 16 * 1024


# A large result (a host's 100-instance list) grows a connection's buffer to hold it, and
# asyncmy keeps it grown: 16 pooled connections then pin several MB for good. Buffers above
# this size go back to the small one when their connection returns to the pool.
_SHRINK_ABOVE = 128 * 1024


def _swap_idle_buffer(dbapi_connection: Any, above: int) -> None:
    if dbapi_connection is None:  # a connection invalidated on its way back to the pool
        return
    protocol: Any = getattr(dbapi_connection.driver_connection, "_proto", None)
    buffer = getattr(protocol, "buffer", None)
    idle = getattr(protocol, "length", None) == getattr(protocol, "pos", None)
    # only an idle buffer may be swapped: the protocol re-reads it after every await
    if idle and isinstance(buffer, bytearray) and len(buffer) > above:
        protocol.buffer = bytearray(_RECEIVE_BUFFER)
        protocol.length = protocol.pos = 0


def _small_receive_buffer(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    _swap_idle_buffer(dbapi_connection, _RECEIVE_BUFFER)


def _shrink_receive_buffer(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    _swap_idle_buffer(dbapi_connection, _SHRINK_ABOVE)


def _reset_unless_clean(
    dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """The pool's reset: ROLLBACK, unless the transaction already ended (our COMMIT, or the
    ROLLBACK SQLAlchemy itself issued when the connection closed mid-transaction)."""
    clean = record.info.pop(_CLEAN, False)
    if clean or state.transaction_was_reset or state.terminate_only:
        return
    dbapi_connection.rollback()


def _forget_clean(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
    # a flag that outlived its check-in (an invalidation path) must not skip a later reset
    record.info.pop(_CLEAN, None)


def no_answer(engine: AsyncEngine, seconds: float) -> DBAPIError:
    """The driver's "lost connection" (2013) for work cut off after `seconds`: oslo.db and
    db.failures make it a DBConnectionError."""
    dialect = engine.sync_engine.dialect
    reason = f"Lost connection to MySQL server during query (no answer in {seconds:g} s)"
    orig = dialect.loaded_dbapi.OperationalError(2013, reason)
    return OperationalError(None, None, orig, connection_invalidated=True)


def _retryable(exc: DBAPIError, attempt: int) -> tuple[bool, str]:
    if exc.connection_invalidated and attempt <= 2:
        return True, "a lost database connection"
    errno = _mysql_errno(exc)
    if errno in _DEADLOCK_ERRNOS and attempt <= _MAX_DEADLOCK_RETRIES:
        return True, f"deadlock (errno {errno})"
    if isinstance(exc, OperationalError) and errno in (2006, 2013, 2003) and attempt <= 2:
        return True, f"server gone (errno {errno})"
    return False, ""


def _mysql_errno(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None
