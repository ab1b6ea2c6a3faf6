"""The start-up wait for the database follows oslo.db's `[database]` retry options."""

from __future__ import annotations

from pathlib import Path

import pymysql
import pytest
from sqlalchemy.exc import OperationalError

from aioconductor.config.settings import load_settings
from aioconductor.db.startup import DatabaseUnavailable, StartupRetries, with_startup_retries
from aioconductor.errors import BootError


def test_nova_conf_retry_options_and_oslo_db_defaults(tmp_path: Path) -> None:
    conf = tmp_path / "nova.conf"
    conf.write_text("[database]\nconnection = mysql+pymysql://nova@db/nova\n")
    assert StartupRetries.from_settings(load_settings([conf], env={})) == StartupRetries(10, 10)
    conf.write_text("[database]\nmax_retries = -1\nretry_interval = 3\n")
    assert StartupRetries.from_settings(load_settings([conf], env={})) == StartupRetries(-1, 3)


def _failing(errno: int, calls: list[int]) -> OperationalError:
    calls.append(1)
    return OperationalError("SELECT 1", {}, pymysql.err.OperationalError(errno, "x"))


async def test_lost_server_is_retried_until_max_retries_then_the_worker_exits_as_a_crash() -> None:
    calls: list[int] = []

    async def attempt() -> None:
        raise _failing(2003, calls)

    with pytest.raises(DatabaseUnavailable) as exited:
        await with_startup_retries("check", attempt, StartupRetries(3, 0))
    assert (len(calls), exited.value.code) == (3, 1)


async def test_refused_credentials_are_not_retried() -> None:
    calls: list[int] = []

    async def attempt() -> None:
        raise _failing(1045, calls)

    with pytest.raises(BootError, match="connection refused"):
        await with_startup_retries("check", attempt, StartupRetries(-1, 0))
    assert len(calls) == 1


async def test_another_database_error_at_start_is_a_crash_without_retries() -> None:
    calls: list[int] = []

    async def attempt() -> None:
        raise _failing(1146, calls)  # no such table: the schema is not there

    with pytest.raises(DatabaseUnavailable):
        await with_startup_retries("check", attempt, StartupRetries(-1, 0))
    assert len(calls) == 1
