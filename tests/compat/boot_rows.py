"""Shared pieces of the boot-rows oracle tests: databases for both sides, nova's answers,
our Database handles, and the comparison of rows and primitives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from aioconductor.context import RequestContext
from aioconductor.db.engine import Database
from tests.compat.nova_processes import nova_api_database, nova_database, run_nova_script
from tests.compat.scenario.pair import diff, dump_table, stable

SCRIPT = "boot_rows.py"
# per-run values: compared as "set or not"
VOLATILE = frozenset({"created_at", "updated_at", "deleted_at", "launched_at"})
CTX = RequestContext(
    is_admin=False,
    project_id="p1",
    user_id="u1",
    raw={"user_id": "u1", "project_id": "p1", "user_name": "alice", "project_name": "demo"},
)


@dataclass(frozen=True)
class Side:
    """One side's databases: a cell database and an API database (names)."""

    cell: str
    api: str


@dataclass(frozen=True)
class Pair:
    nova: Side
    ours: Side


@contextmanager
def database_pair(prefix: str, *, cell: bool = True) -> Iterator[Pair]:
    """Two sides, each with a `db sync`ed cell database and an `api_db sync`ed API one."""
    with ExitStack() as stack:
        sides = []
        for who in ("nova", "ours"):
            cell_db = stack.enter_context(nova_database(f"{prefix}_{who}", cell))
            api_db = stack.enter_context(nova_api_database(f"{prefix}_{who}_api"))
            sides.append(Side(cell_db, api_db))
        yield Pair(*sides)


def run_nova(side: Side, command: str, **job: Any) -> Any:
    """boot_rows.py's `command` in nova's venv, on `side`'s databases."""
    return run_nova_script(
        SCRIPT, {"cell_db": side.cell, "api_db": side.api, "command": command, **job}
    )


@asynccontextmanager
async def our_database(name: str) -> AsyncIterator[Database]:
    db = Database.from_url(f"mysql+asyncmy://root@127.0.0.1/{name}", pool_size=2)
    try:
        yield db
    finally:
        await db.close()


def assert_same(have: Any, want: Any, what: str, volatile: Iterable[str] = VOLATILE) -> None:
    keys = frozenset(volatile)
    ours, theirs = stable(have, keys), stable(want, keys)
    assert ours == theirs, (what, diff(ours, theirs))


def assert_same_tables(
    pair: Pair, tables: Iterable[str], *, api: bool = False, ignore: Iterable[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """Every row of each table equal on both sides (timestamps as set or not); our rows."""
    keys = VOLATILE | frozenset(ignore)
    ours: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        theirs_db, ours_db = (
            (pair.nova.api, pair.ours.api) if api else (pair.nova.cell, pair.ours.cell)
        )
        want, have = dump_table(theirs_db, table), dump_table(ours_db, table)
        assert_same(have, want, table, keys)
        ours[table] = have
    return ours
