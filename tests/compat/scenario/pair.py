"""Run one scenario through nova's objects twice and compare: the oracle harness.

The scenario file (runs in nova's virtualenv) defines `seed(ctx, objects)` and
`run(ctx, objects, step)`. Both databases come from `nova-manage db sync` and get the same
seed. Then `run` goes directly on the first database (nova's own code: the expected
result) and with `indirection_api` over RabbitMQ to a real `aioconductor serve` on the
second (the way nova-compute calls a conductor). Tables named in `tables` are dumped from
both databases afterwards so writes can be compared too.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from tests.compat.notification_logs import nova_lines
from tests.compat.notification_queues import collect
from tests.compat.nova_processes import (
    aioconductor_serving,
    api_database_conf,
    nova_api_database,
    nova_conf,
    nova_database,
    run_nova_script,
)

RUNNER = Path(__file__).with_name("runner.py")
# Unique per run or per database: compared as "set or not".
VOLATILE = frozenset({"created_at", "updated_at", "deleted_at", "last_seen_up", "start_time",
                      "finish_time", "launched_at", "terminated_at"})  # fmt: skip


@dataclass
class Outcome:
    direct: list[dict[str, Any]]
    ours: list[dict[str, Any]]
    direct_tables: dict[str, list[dict[str, Any]]]
    our_tables: dict[str, list[dict[str, Any]]]
    our_log: str
    # oslo's log notification driver's lines in nova's run ({logger, level, message})
    direct_log_lines: list[dict[str, str]] = field(default_factory=list)
    # notification queue -> messages each side published while the scenario ran
    direct_notifications: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    our_notifications: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def run_pair(
    scenario: Path,
    tmp_path: Path,
    tables: Sequence[str] = (),
    *,
    api_database: bool = False,
    cell_schema: bool = True,
    extra_conf: str = "",
    notification_queues: Sequence[str] = (),
) -> Outcome:
    """`api_database`: each side also gets an API database (`nova-manage api_db sync`), in
    its nova.conf and in aioconductor's; `tables` are then read from the API databases.
    `cell_schema=False`: the cell databases stay empty (no `db sync`, half a minute saved)
    and aioconductor keeps no services row, for scenarios on the API database alone.
    `extra_conf` is added to both nova.conf files; the `notification_queues` (oslo's
    default queues `<topic>.<priority>`) are read after each run."""
    exchange = f"aioc_scn_{uuid.uuid4().hex[:8]}"
    queues = list(notification_queues)
    with ExitStack() as stack:
        direct_db = stack.enter_context(nova_database("scn_direct", cell_schema))
        our_db = stack.enter_context(nova_database("scn_ours", cell_schema))
        dumped_direct, dumped_ours = direct_db, our_db
        direct_extra = our_extra = extra_conf
        if not cell_schema:
            our_extra += "[aioconductor]\nregister_service = false\n"
        if api_database:
            dumped_direct = stack.enter_context(nova_api_database("scn_direct_api"))
            dumped_ours = stack.enter_context(nova_api_database("scn_ours_api"))
            direct_extra += api_database_conf(dumped_direct)
            our_extra += api_database_conf(dumped_ours)
        # a port of its own: another aioconductor (a parallel run) may hold the default one
        our_extra += f"[aioconductor]\nmetrics_bind = 127.0.0.1:{free_port()}\n"
        direct_conf = nova_conf(tmp_path / "direct.conf", exchange, direct_db, direct_extra)
        our_conf = nova_conf(tmp_path / "ours.conf", exchange, our_db, our_extra)
        with ThreadPoolExecutor(2) as pool:
            seeds = [pool.submit(_phase, scenario, "seed", "direct", c)
                     for c in (direct_conf, our_conf)]  # fmt: skip
            for seeded in seeds:
                seeded.result()
        collect(queues)  # what the seeds sent is nobody's result
        direct_lines = tmp_path / "direct-notification-log.jsonl"
        direct = _phase(scenario, "run", "direct", direct_conf, direct_lines)
        theirs = collect(queues)
        log = tmp_path / "aioconductor.log"
        with aioconductor_serving(our_conf, log):
            ours = _phase(scenario, "run", "indirect", our_conf)
            expect = {q: len(m) for q, m in theirs.items()}
            mine = collect(queues, expect=expect, wait=15) if queues else {}
        return Outcome(
            direct_notifications=theirs,
            our_notifications=mine,
            direct=direct,
            ours=ours,
            direct_tables={t: dump_table(dumped_direct, t) for t in tables},
            our_tables={t: dump_table(dumped_ours, t) for t in tables},
            our_log=log.read_text(),
            direct_log_lines=nova_lines(direct_lines),
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _phase(
    scenario: Path, phase: str, mode: str, conf: Path, log_file: Path | None = None
) -> list[dict[str, Any]]:
    job = {"scenario": str(scenario), "phase": phase, "mode": mode, "config_file": str(conf)}
    if log_file is not None:
        job["log_file"] = str(log_file)
    result: list[dict[str, Any]] = run_nova_script(RUNNER, job)
    return result


def dump_table(db: str, table: str) -> list[dict[str, Any]]:
    """Every row of `table` (JSON-ish values), in an order both databases agree on."""
    conn = pymysql.connect(host="127.0.0.1", user="root", database=db)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(f"SELECT * FROM `{table}`")
            rows = [{k: _jsonish(v) for k, v in row.items()} for row in cur.fetchall()]
    finally:
        conn.close()
    return sorted(rows, key=_row_order)


def _row_order(row: dict[str, Any]) -> tuple[int, int, str]:
    # by id where there is one; otherwise by the row without its timestamps, which differ
    # between the two runs (two rows written in one second on one side and not on the other
    # would otherwise swap places)
    if isinstance(row.get("id"), int):
        return (0, row["id"], "")
    return (1, 0, json.dumps(stable(row), sort_keys=True, default=str))


def _jsonish(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        value = value.decode(errors="replace")
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:  # JSON columns compare as data (object change lists are sets)
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)


def stable(value: Any, volatile: Iterable[str] = VOLATILE) -> Any:
    """Replace per-run values by whether they are set, keep everything else."""
    keys = frozenset(volatile)
    if isinstance(value, dict):
        out = {k: (v is not None) if k in keys else stable(v, keys) for k, v in value.items()}
        if isinstance(out.get("nova_object.changes"), list):  # a set on both sides
            out["nova_object.changes"] = sorted(out["nova_object.changes"])
        return out
    if isinstance(value, list):
        return [stable(v, keys) for v in value]
    return value


def assert_same_steps(outcome: Outcome, volatile: Iterable[str] = VOLATILE) -> None:
    """Every step of the scenario returned the same through aioconductor as through nova."""
    keys = frozenset(volatile)
    assert [s["label"] for s in outcome.ours] == [s["label"] for s in outcome.direct]
    for theirs, ours in zip(outcome.direct, outcome.ours, strict=True):
        want, have = stable(theirs, keys), stable(ours, keys)
        assert have == want, (theirs["label"], diff(have, want))


def assert_same_tables(outcome: Outcome, volatile: Iterable[str] = VOLATILE) -> None:
    keys = frozenset(volatile)
    for table, want in outcome.direct_tables.items():
        have = outcome.our_tables[table]
        assert stable(have, keys) == stable(want, keys), (
            table,
            diff(stable(have, keys), stable(want, keys)),
        )


def diff(have: Any, want: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as short `path: ours=... nova=...` lines."""
    if isinstance(have, dict) and isinstance(want, dict):
        out: list[str] = []
        for key in sorted(set(have) | set(want), key=str):
            if key not in have or key not in want:
                out.append(f"{path}/{key}: ours={have.get(key, '-')!r} nova={want.get(key, '-')!r}")
            else:
                out += diff(have[key], want[key], f"{path}/{key}")
        return out
    if isinstance(have, list) and isinstance(want, list) and len(have) == len(want):
        pairs = enumerate(zip(have, want, strict=True))
        return [d for i, (h, w) in pairs for d in diff(h, w, f"{path}[{i}]")]
    return [] if have == want else [f"{path}: ours={have!r} nova={want!r}"]
