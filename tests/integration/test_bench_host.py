"""The harness reads the database's and the broker's CPU on this machine, so a report can say
which of them limited a level."""

from __future__ import annotations

import pymysql
import pytest

from aioconductor.bench.host import HostSample, HostUse

pytestmark = pytest.mark.connected


def test_database_work_shows_up_as_database_cpu() -> None:
    before = HostSample.now()
    conn = pymysql.connect(host="127.0.0.1", user="root")
    try:
        with conn.cursor() as cur:
            for _ in range(3):  # enough work for several clock ticks of mariadbd's CPU
                cur.execute("SELECT BENCHMARK(2000000, SHA2('aioconductor', 256))")
    finally:
        conn.close()
    use = HostUse.between(before, HostSample.now())
    assert use.database_cpu > 0.05
    assert 0.0 <= use.idle_share <= 1.0
    assert 0.0 <= use.steal_share <= 1.0


def test_the_broker_process_is_found() -> None:
    assert HostSample.now().broker_cpu > 0  # RabbitMQ has run since the machine started
