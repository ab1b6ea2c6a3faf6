"""A database that stops answering without closing anything (a hung server, a dead link with
no reset): a call ends, with oslo.db's DBConnectionError, once its work has taken as long as
the caller waits for any answer, and its pool slot comes back; a shorter stall only delays it.

nova-conductor's PyMySQL has no read timeout: there a stalled call waits for TCP to give up
(hours). Its caller stops waiting after rpc_response_timeout all the same, so a stalled call
cut off then answers nothing later than nova's caller would see."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator

import pytest
from sqlalchemy import text

from aioconductor.db.connection import AsyncConnection
from aioconductor.db.engine import Database
from aioconductor.db.failures import reported_as_oslo_db
from aioconductor.errors import DBConnectionError
from aioconductor.novaenv import create_database, drop_database
from tests.integration.tcp_proxy import TcpProxy

pytestmark = pytest.mark.connected
WORK_TIMEOUT = 2.0


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", 3306)) as mariadb:
        yield mariadb


@pytest.fixture(params=["asyncmy", "aiomysql"])
async def db(request: pytest.FixtureRequest, proxy: TcpProxy) -> AsyncIterator[Database]:
    name = f"aioc_stall_{uuid.uuid4().hex[:10]}"
    create_database(name)
    url = f"mysql+{request.param}://root@127.0.0.1:{proxy.port}/{name}"
    database = Database.from_url(url, pool_size=4, work_timeout=WORK_TIMEOUT)
    try:
        yield database
    finally:
        proxy.thaw()
        await database.close()
        drop_database(name)


async def _as_the_caller_sees_it(call: Awaitable[object]) -> object:
    async with asyncio.timeout(4 * WORK_TIMEOUT):  # the test's guard: a hang fails
        with reported_as_oslo_db():
            return await call


async def _one(conn: AsyncConnection) -> object:
    return (await conn.execute(text("SELECT 1"))).scalar()


def _in_use(db: Database) -> int:
    pools = (db.engine.sync_engine.pool, db.statements.sync_engine.pool)
    return sum(pool.checkedout() for pool in pools)  # type: ignore[attr-defined]


async def test_a_stalled_call_fails_with_db_connection_error_and_frees_its_slot(
    db: Database, proxy: TcpProxy
) -> None:
    assert await db.run(_one) == 1  # pooled connections exist: the stall hits a live one
    assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}
    proxy.freeze()
    for call in (lambda: db.run(_one), lambda: db.fetch_one("SELECT 1 AS one")):
        started = time.monotonic()
        with pytest.raises(DBConnectionError):
            await _as_the_caller_sees_it(call())
        assert time.monotonic() - started < 2 * WORK_TIMEOUT
        assert _in_use(db) == 0
    proxy.thaw()
    assert await db.run(_one) == 1


async def test_a_stall_shorter_than_the_limit_only_delays_the_call(
    db: Database, proxy: TcpProxy
) -> None:
    assert await db.run(_one) == 1
    proxy.freeze()
    asyncio.get_running_loop().call_later(WORK_TIMEOUT / 2, proxy.thaw)
    assert await db.run(_one) == 1
