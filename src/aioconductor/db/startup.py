"""Waiting for the database at start-up, as nova-conductor does.

oslo.db tests a new engine's first connection (`oslo_db.sqlalchemy.engines._test_connection`)
and retries it `[database] max_retries` times (default 10, -1: forever), `retry_interval`
seconds apart (default 10), on DBConnectionError only; nova-conductor creates its services
row, which needs that engine, before its RPC server consumes anything. The worker does the
same: no call is taken off the queue until the database has answered, refused credentials
or an unknown database stop it at once (a boot error), and a database that never answers
ends it as a crash, in one line, for the supervisor to restart it with its backoff.

One difference: oslo.db sleeps once more after its last attempt before raising; here the
worker gives up right after it. `max_retries = 0` (oslo.db then skips its test and fails on
first use, the services row) makes one attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from aioconductor.config.settings import Settings
from aioconductor.db.engine import Database, no_answer
from aioconductor.db.failures import as_oslo_db_error
from aioconductor.errors import BootError, DBConnectionError

log = logging.getLogger(__name__)
T = TypeVar("T")

# access denied (to the database, to the user, to a user without a password), unknown database
_REFUSED = {1044, 1045, 1698, 1049}
CRASH_EXIT = 1
# PyMySQL's connect_timeout under nova: how long one attempt may wait for the server
_CHECK_TIMEOUT = 10.0


class DatabaseUnavailable(SystemExit):
    """The database did not answer in `max_retries` attempts: the worker exits with
    CRASH_EXIT. A SystemExit, so that no `except Exception` on the way keeps a worker
    without its database running, and the process ends on the logged line, without a
    traceback."""

    def __init__(self) -> None:
        super().__init__(CRASH_EXIT)


@dataclass(frozen=True, slots=True)
class StartupRetries:
    max_retries: int  # -1: forever
    interval: float

    @classmethod
    def from_settings(cls, settings: Settings) -> StartupRetries:
        return cls(settings.database_max_retries, settings.database_retry_interval)

    def gives_up_after(self, attempt: int) -> bool:
        return self.max_retries != -1 and attempt >= max(self.max_retries, 1)

    def describe(self, attempt: int) -> str:
        total = "unlimited" if self.max_retries == -1 else str(max(self.max_retries, 1))
        return f"attempt {attempt} of {total}"


async def wait_for_database(db: Database, retries: StartupRetries) -> None:
    """Return once a pooled connection answers `SELECT 1` (it stays in the pool)."""

    async def check() -> None:
        try:
            # a server that accepts and never greets would hold the check for good
            async with asyncio.timeout(_CHECK_TIMEOUT):
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except TimeoutError:
            raise no_answer(db.engine, _CHECK_TIMEOUT) from None

    await with_startup_retries("database check", check, retries)


async def with_startup_retries(
    what: str, attempt: Callable[[], Awaitable[T]], retries: StartupRetries
) -> T:
    """`attempt()`, again while it fails as oslo.db's DBConnectionError, one log line per
    failure; BootError when the server refuses us, DatabaseUnavailable when it never
    answers."""
    count = 0
    while True:
        count += 1
        try:
            return await attempt()
        except DBAPIError as exc:
            _refuse_for_good(exc)
            reason = exc.orig if exc.orig is not None else exc
            if not isinstance(as_oslo_db_error(exc), DBConnectionError):
                # not one oslo.db retries (too many connections, a missing table): a crash,
                # in one line; the supervisor's restart may find it gone
                log.error("%s: database error: %s; exiting", what, reason)
                raise DatabaseUnavailable() from None
            if retries.gives_up_after(count):
                log.error(
                    "%s: database still not reachable after %d attempts ([database] "
                    "max_retries = %d): %s; exiting",
                    what, count, retries.max_retries, reason,
                )  # fmt: skip
                raise DatabaseUnavailable() from None
            log.warning(
                "%s: database not reachable (%s, next in %g s): %s",
                what, retries.describe(count), retries.interval, reason,
            )  # fmt: skip
        await asyncio.sleep(retries.interval)


def _refuse_for_good(exc: DBAPIError) -> None:
    args: tuple[object, ...] = tuple(getattr(exc.orig, "args", ()))
    errno = args[0] if args and isinstance(args[0], int) else None
    if errno in _REFUSED:
        reason = args[1] if len(args) > 1 else exc
        raise BootError(f"[database] connection refused: {reason}") from None
