"""Where each server lived, by cell: the checks of a stack's cells (one or several)."""

from __future__ import annotations

import re
from collections import Counter

from tests.compat.test_real_compute import query
from tests.e2e.scenario import ServerRecord
from tests.e2e.stack import Stack

BUILT = "seconds to build instance"  # nova-compute's INFO line once a build is done
# aioconductor's INFO line once the superconductor has cast build_and_run_instance
CAST = re.compile(r"build of ([0-9a-f-]{36}) cast to (\S+) in cell ([0-9a-f-]{36})")


def cell_problems(stack: Stack, records: list[ServerRecord]) -> list[str]:
    """Each server's instance row is in its host's cell only (with that host), its instance
    mapping names that cell, its host mapping too, and the host's nova-compute (which
    consumes its cell's vhost only) built it; aioconductor (the superconductor) cast each
    build to a compute in that compute's cell; with several cells, each cell got a server
    (without `--reschedule`)."""
    problems: list[str] = []
    booted = [r for r in records if r.id and r.host]
    host_cells = stack.host_cells()
    rows = _instance_rows(stack, [r.id for r in booted if r.id])
    mapped = _instance_mappings(stack, [r.id for r in booted if r.id])
    built = {host: _built(stack, host) for host in stack.compute_hosts}
    casts = _casts(stack) if stack.with_aioconductor else {}
    landed: Counter[str] = Counter()
    for record in booted:
        assert record.id
        assert record.host
        cell = stack.cell_name(record.host)
        landed[cell] += 1
        if host_cells.get(record.host) != cell:
            problems.append(f"{record.host} mapped to {host_cells.get(record.host)}, not {cell}")
        found = rows.get(record.id, {})
        if found != {cell: record.host}:
            problems.append(f"{record.name} on {record.host} ({cell}): instance rows {found}")
        if mapped.get(record.id) != cell:
            problems.append(f"{record.name}: instance mapping to {mapped.get(record.id)}")
        builders = sorted(host for host, uuids in built.items() if record.id in uuids)
        if builders != [record.host]:
            problems.append(f"{record.name} on {record.host}: built by {builders}")
        if stack.with_aioconductor:
            problems += _cast_problems(stack, record, casts.get(record.id, []))
    # a reschedule run sends every boot to the failing compute's cell first, and there
    # its alternates are
    if stack.layout.split and not stack.layout.reschedule:
        empty = [cell.name for cell in stack.layout.cells if not landed[cell.name]]
        if empty:
            problems.append(f"no server landed in {empty} (landed: {dict(landed)})")
    return problems


def _cast_problems(stack: Stack, record: ServerRecord, casts: list[tuple[str, str]]) -> list[str]:
    if not casts:
        return [f"{record.name}: the superconductor logged no build cast"]
    problems = []
    for host, cell_uuid in casts:
        expected = stack.cell_uuids.get(stack.cell_name(host))
        if cell_uuid != expected:
            problems.append(f"{record.name}: cast to {host} in cell {cell_uuid}, not {expected}")
    return problems


def _casts(stack: Stack) -> dict[str, list[tuple[str, str]]]:
    """uuid -> (host, cell uuid) of each build the superconductor cast."""
    text = stack.service("aioconductor").log.read_text(errors="replace")
    found: dict[str, list[tuple[str, str]]] = {}
    for uuid, host, cell_uuid in CAST.findall(text):
        found.setdefault(uuid, []).append((host, cell_uuid))
    return found


def _instance_rows(stack: Stack, uuids: list[str]) -> dict[str, dict[str, str]]:
    """uuid -> cell -> the host of its row there (deleted rows included: nova soft-deletes)."""
    found: dict[str, dict[str, str]] = {}
    if not uuids:
        return found
    wanted = ", ".join(f"'{u}'" for u in uuids)
    cells = [("cell0", stack.layout.cell0_db), *((c.name, c.db) for c in stack.layout.cells)]
    for name, db in cells:
        for uuid, host in query(db, f"SELECT uuid, host FROM instances WHERE uuid IN ({wanted})"):
            found.setdefault(str(uuid), {})[name] = str(host)
    return found


def _instance_mappings(stack: Stack, uuids: list[str]) -> dict[str, str]:
    if not uuids:
        return {}
    wanted = ", ".join(f"'{u}'" for u in uuids)
    rows = query(
        stack.layout.api_db,
        "SELECT m.instance_uuid, c.name FROM instance_mappings m "
        f"JOIN cell_mappings c ON m.cell_id = c.id WHERE m.instance_uuid IN ({wanted})",
    )
    return {str(uuid): str(cell) for uuid, cell in rows}


def _built(stack: Stack, host: str) -> set[str]:
    """The instances `host`'s nova-compute logged as built."""
    text = stack.service(f"nova-compute:{host}").log.read_text(errors="replace")
    return {
        line.split("[instance: ", 1)[1][:36]
        for line in text.splitlines()
        if BUILT in line and "[instance: " in line
    }
