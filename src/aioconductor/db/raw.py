"""Hand-written SQL on the driver's own cursor, inside a `Database.run` transaction.

SQLAlchemy Core costs about 0.1 ms of CPU per statement here (cache keys, parameter and
result processing, greenlet hops), which is most of a heartbeat's cost. The hottest calls
run their few fixed statements straight on the aiomysql/asyncmy cursor instead, in the same
transaction. Driver errors come out as SQLAlchemy's DBAPIError (a lost server also
invalidates the connection), so `Database.run`'s deadlock and reconnect retries apply
unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import PoolProxiedConnection

from aioconductor.db.connection import AsyncConnection

Args = Sequence[Any]


async def fetch_one(conn: AsyncConnection, sql: str, args: Args = ()) -> dict[str, Any] | None:
    """The first row of `sql` as a column-name dict (values as the driver returns them)."""
    rows = (await _run(conn, sql, args, fetch=True)).rows
    return rows[0] if rows else None


async def fetch_all(conn: AsyncConnection, sql: str, args: Args = ()) -> list[dict[str, Any]]:
    return (await _run(conn, sql, args, fetch=True)).rows


async def execute(conn: AsyncConnection, sql: str, args: Args = ()) -> int:
    """Run a write; the number of rows it matched (SQLAlchemy connects with FOUND_ROWS)."""
    return (await _run(conn, sql, args, fetch=False)).rowcount


async def insert(conn: AsyncConnection, sql: str, args: Args = ()) -> int:
    """Run an INSERT; the AUTO_INCREMENT id it gave."""
    return (await _run(conn, sql, args, fetch=False)).lastrowid


async def commit(conn: AsyncConnection) -> None:
    """COMMIT the driver's transaction under `conn` (errors as DBAPIError, like statements)."""
    driver = (await _pooled(conn)).driver_connection
    assert driver is not None
    try:
        await driver.commit()
    except Exception as exc:
        error = await _as_dbapi_error(conn, "COMMIT", (), exc)
        if error is None:
            raise
        raise error from exc


def marks(count: int) -> str:
    """`%s, %s, ...`: placeholders for an IN list or a VALUES row."""
    return ", ".join(["%s"] * count)


async def insert_row(conn: AsyncConnection, table: str, values: Mapping[str, Any]) -> int:
    """INSERT one row of `values` (column names from our own code, never from a request)."""
    names = ", ".join(f"`{name}`" for name in values)
    sql = f"INSERT INTO `{table}` ({names}) VALUES ({marks(len(values))})"
    return await insert(conn, sql, tuple(values.values()))


async def update_row(
    conn: AsyncConnection, table: str, values: Mapping[str, Any], where: str, args: Args
) -> int:
    """UPDATE `table` SET values WHERE ...; the rows matched."""
    sets = ", ".join(f"`{name}` = %s" for name in values)
    sql = f"UPDATE `{table}` SET {sets} WHERE {where}"
    return await execute(conn, sql, (*values.values(), *args))


@dataclass(slots=True)
class _Outcome:
    rows: list[dict[str, Any]]
    rowcount: int = 0
    lastrowid: int = 0


async def _run(conn: AsyncConnection, sql: str, args: Args, *, fetch: bool) -> _Outcome:
    driver = (await _pooled(conn)).driver_connection
    assert driver is not None
    cursor = driver.cursor()
    if not hasattr(cursor, "execute"):  # aiomysql hands out an awaitable context manager
        cursor = await cursor
    try:
        await cursor.execute(sql, tuple(args))
        if not fetch:
            return _Outcome([], int(cursor.rowcount), int(cursor.lastrowid or 0))
        description = cursor.description or ()
        names = [d[0] for d in description]
        rows = await cursor.fetchall()
        floats = [i for i, d in enumerate(description) if d[1] == _MYSQL_TYPE_FLOAT]
        if floats:
            rows = [_as_text_floats(row, floats) for row in rows]
        return _Outcome([dict(zip(names, row, strict=True)) for row in rows])
    except Exception as exc:
        error = await _as_dbapi_error(conn, sql, args, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        await cursor.close()


_MYSQL_TYPE_FLOAT = 4


def _as_text_floats(row: Sequence[Any], columns: list[int]) -> list[Any]:
    """FLOAT values as MariaDB's text protocol gives them (and so nova, through PyMySQL).

    The binary protocol of a prepared statement carries a FLOAT column as its 4-byte float32
    (an allocation ratio of 0.9 arrives as 0.8999999761581421); the text protocol prints it
    with 6 significant digits. Rounding to those digits is a no-op on text-protocol values.
    """
    values = list(row)
    for i in columns:
        if values[i] is not None:
            values[i] = float(f"{values[i]:.6g}")
    return values


async def _pooled(conn: AsyncConnection) -> PoolProxiedConnection:
    """The pooled connection under `conn`. While it is live, read it directly: the awaitable
    accessor spawns a greenlet per call, and each new greenlet maps a fresh frame stack."""
    sync = conn.sync_connection
    if not sync.closed and not sync.invalidated:
        return sync.connection  # already checked out: no I/O
    return await conn.get_raw_connection()  # raises the right error for a dead connection


async def _as_dbapi_error(
    conn: AsyncConnection, sql: str, args: Args, exc: Exception
) -> StatementError | None:
    dialect = conn.dialect
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error):
        return None
    lost = dialect.is_disconnect(exc, None, None)
    if lost:
        await conn.invalidate()  # never hand a dead connection back to the pool
    error: StatementError = DBAPIError.instance(
        sql, tuple(args), exc, dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
    return error
