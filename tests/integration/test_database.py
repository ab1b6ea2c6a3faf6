"""Database.run on a real MariaDB: commit, rollback, the skipped pool reset, reconnects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import await_only

from aioconductor.config.settings import load_settings
from aioconductor.db import raw
from aioconductor.db.connection import AsyncConnection
from aioconductor.db.engine import Database
from aioconductor.novaenv import create_database, drop_database

pytestmark = pytest.mark.connected


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    name = f"aioc_dbtest_{uuid.uuid4().hex[:10]}"
    create_database(name)
    database = Database.from_url(f"mysql+aiomysql://root@127.0.0.1/{name}", pool_size=1)
    try:
        await database.run(lambda c: c.execute(text("CREATE TABLE t (id INT PRIMARY KEY)")))
        yield database
    finally:
        await database.close()
        drop_database(name)


async def _scalar(db: Database, sql: str) -> Any:
    async def work(conn: AsyncConnection) -> Any:
        return (await conn.execute(text(sql))).scalar()

    return await db.run(work)


async def _rollbacks(db: Database) -> int:
    # the single pooled connection's own counter of ROLLBACK commands
    value = await _scalar(db, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
                              "WHERE VARIABLE_NAME = 'COM_ROLLBACK'")  # fmt: skip
    return int(value)


async def test_committed_work_persists_and_failed_work_leaves_nothing(db: Database) -> None:
    await db.run(lambda c: c.execute(text("INSERT INTO t VALUES (1)")))

    async def insert_then_fail(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await db.run(insert_then_fail)
    assert await _scalar(db, "SELECT GROUP_CONCAT(id) FROM t") == "1"


async def test_no_rollback_round_trip_after_a_commit(db: Database) -> None:
    before = await _rollbacks(db)
    for i in range(5):
        await db.run(lambda c, i=i: c.execute(text(f"INSERT INTO t VALUES ({10 + i})")))
    assert await _rollbacks(db) == before


async def test_raw_only_work_commits_on_the_driver_without_a_rollback(db: Database) -> None:
    before = await _rollbacks(db)
    for i in range(3):
        await db.run(lambda c, i=i: raw.execute(c, "INSERT INTO t VALUES (%s)", (20 + i,)))
    # committed (a second connection sees the rows) and nothing was rolled back on check-in
    other = Database.from_url(str(db.engine.url), pool_size=1)
    try:
        assert await _scalar(other, "SELECT GROUP_CONCAT(id ORDER BY id) FROM t") == "20,21,22"
    finally:
        await other.close()
    assert await _rollbacks(db) == before


async def test_one_statement_work_is_committed_as_it_runs(db: Database) -> None:
    await db.insert_row("t", {"id": 30})
    assert await db.execute("INSERT INTO t VALUES (%s)", (31,)) == 1
    other = Database.from_url(str(db.engine.url), pool_size=1)
    try:
        # no COMMIT followed them, yet another connection sees both rows
        assert await _scalar(other, "SELECT GROUP_CONCAT(id ORDER BY id) FROM t") == "30,31"
        assert await db.fetch_one("SELECT COUNT(*) AS n FROM t") == {"n": 2}
        # and no read leaves a snapshot open behind it: a later row is seen
        await other.run(lambda c: c.execute(text("INSERT INTO t VALUES (32)")))
        for _ in range(3):  # every connection of the small pool
            assert await db.fetch_all("SELECT id FROM t WHERE id > %s", (31,)) == [{"id": 32}]
    finally:
        await other.close()


async def test_a_connection_returned_mid_transaction_is_rolled_back(db: Database) -> None:
    before = await _rollbacks(db)
    async with db.engine.connect() as conn:  # no commit: an open transaction goes back
        await conn.execute(text("INSERT INTO t VALUES (99)"))
    assert await _rollbacks(db) == before + 1
    assert await _scalar(db, "SELECT COUNT(*) FROM t WHERE id = 99") == 0


async def test_a_cancelled_call_gives_its_connection_back(db: Database) -> None:
    # The pool holds one connection: had the cancelled call kept it, the next would wait.
    started = asyncio.Event()

    async def slow(conn: AsyncConnection) -> None:
        started.set()
        await conn.execute(text("SELECT SLEEP(5)"))

    call = asyncio.create_task(db.run(slow))
    await started.wait()
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert db.engine.sync_engine.pool.checkedout() == 0
    async with asyncio.timeout(5):
        assert await _scalar(db, "SELECT 1") == 1


async def test_a_cancellation_waits_for_the_connection_to_be_checked_in(db: Database) -> None:
    # A slow check-in (the pool's reset and events, all awaiting I/O) cut short by the
    # cancellation would leave the connection half returned.
    checked_in: list[bool] = []

    def slow_checkin(dbapi_connection: Any, record: Any) -> None:
        await_only(asyncio.sleep(0.3))
        checked_in.append(True)

    event.listen(db.engine.sync_engine, "checkin", slow_checkin)
    call = asyncio.create_task(db.run(lambda c: c.execute(text("SELECT 1"))))
    await asyncio.sleep(0.1)  # the call is done and its connection is on the way back
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert checked_in == [True]
    assert db.engine.sync_engine.pool.checkedout() == 0


async def test_a_killed_connection_is_replaced_transparently(db: Database) -> None:
    conn_id = await _scalar(db, "SELECT CONNECTION_ID()")
    other = Database.from_url(str(db.engine.url), pool_size=1)
    try:
        await other.run(lambda c: c.execute(text(f"KILL CONNECTION {int(conn_id)}")))
    finally:
        await other.close()
    # the pooled connection is dead; run() notices and retries on a new one
    assert await _scalar(db, "SELECT 1") == 1
    assert await _scalar(db, "SELECT CONNECTION_ID()") != conn_id


@pytest.mark.parametrize(
    ("driver", "statement_cache"), [("aiomysql", 0), ("asyncmy", 0), ("asyncmy", 64)]
)
async def test_raw_statements_share_the_transaction_and_errors(
    driver: str, statement_cache: int
) -> None:
    name = f"aioc_dbraw_{uuid.uuid4().hex[:10]}"
    create_database(name)
    db = Database.from_url(
        f"mysql+{driver}://root@127.0.0.1/{name}", pool_size=1, statement_cache=statement_cache
    )
    try:
        await db.run(lambda c: c.execute(text("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")))

        async def write_then_fail(conn: AsyncConnection) -> None:
            await raw.execute(conn, "INSERT INTO t VALUES (%s, %s)", (1, "a"))
            raise RuntimeError("handler failed")

        with pytest.raises(RuntimeError):
            await db.run(write_then_fail)  # the raw INSERT is rolled back with the rest

        async def write(conn: AsyncConnection) -> Any:
            await raw.execute(conn, "INSERT INTO t VALUES (%s, %s)", (2, "b"))
            return await raw.fetch_one(conn, "SELECT id, v FROM t WHERE id = %s", (2,))

        assert await db.run(write) == {"id": 2, "v": "b"}
        assert await db.run(lambda c: raw.fetch_all(c, "SELECT id FROM t")) == [{"id": 2}]
        with pytest.raises(DBAPIError) as duplicate:
            await db.run(write)
        assert duplicate.value.orig.args[0] == 1062  # ER_DUP_ENTRY, as SQLAlchemy reports it

        conn_id = await db.run(lambda c: raw.fetch_one(c, "SELECT CONNECTION_ID() AS i"))
        killer = Database.from_url(f"mysql+aiomysql://root@127.0.0.1/{name}", pool_size=1)
        await killer.run(lambda c: raw.execute(c, f"KILL CONNECTION {int(conn_id['i'])}"))
        await killer.close()
        # a lost server on the raw path is retried on a new connection like any other
        assert await db.run(lambda c: raw.fetch_one(c, "SELECT 1 AS one")) == {"one": 1}
    finally:
        await db.close()
        drop_database(name)


async def test_default_settings_run_repeated_statements_as_prepared_ones() -> None:
    """The default driver prepares a parameterised statement once per connection and then
    only executes it (binary protocol): the CPU the benchmarks count on."""
    name = f"aioc_dbprep_{uuid.uuid4().hex[:10]}"
    create_database(name)
    env = {"AIOCONDUCTOR_DATABASE__CONNECTION": f"mysql+pymysql://root@127.0.0.1/{name}"}
    db = Database.from_settings(load_settings([], env=env))
    status = (
        "SELECT VARIABLE_NAME AS k, VARIABLE_VALUE AS v FROM information_schema.SESSION_STATUS "
        "WHERE VARIABLE_NAME IN ('COM_STMT_PREPARE', 'COM_STMT_EXECUTE')"
    )

    async def counters(conn: AsyncConnection) -> dict[str, int]:
        return {row["k"]: int(row["v"]) for row in await raw.fetch_all(conn, status)}

    async def work(conn: AsyncConnection) -> dict[str, int]:
        before = await counters(conn)
        for n in range(3):
            assert await raw.fetch_one(conn, "SELECT %s + 1 AS n", (n,)) == {"n": n + 1}
        return {k: v - before[k] for k, v in (await counters(conn)).items()}

    try:
        # one prepare, three executions, and the second read of the counters (itself a
        # statement the first read already prepared)
        assert await db.run(work) == {"COM_STMT_PREPARE": 1, "COM_STMT_EXECUTE": 4}
    finally:
        await db.close()
        drop_database(name)


async def test_a_large_result_does_not_keep_its_receive_buffer_in_the_pool() -> None:
    """A host's big instance list grows the connection's buffer to hold it; back in the pool
    the connection must not keep those megabytes (the fleet's RSS per worker)."""
    name = f"aioc_dbbuf_{uuid.uuid4().hex[:10]}"
    create_database(name)
    db = Database.from_url(
        f"mysql+asyncmy://root@127.0.0.1/{name}", pool_size=1, statement_cache=64
    )

    async def buffer_size(conn: AsyncConnection) -> int:
        driver: Any = (await conn.get_raw_connection()).driver_connection
        return len(driver._proto.buffer)

    async def big_read(conn: AsyncConnection) -> int:
        row = await raw.fetch_one(conn, "SELECT REPEAT('x', %s) AS big", (2_000_000,))
        assert row is not None
        assert len(row["big"]) == 2_000_000
        return await buffer_size(conn)

    try:
        # It grew to hold the row. asyncmy itself cuts a buffer over 1 MiB back to 256 KiB
        # when more bytes arrive after it was drained (the packet ending the result may come
        # in a read of its own), so the size seen here is 2 MB or 256 KiB: both keep far
        # more than an idle connection needs.
        assert await db.run(big_read) > 128 * 1024
        assert await db.run(buffer_size) <= 64 * 1024  # and was given back at check-in
    finally:
        await db.close()
        drop_database(name)
