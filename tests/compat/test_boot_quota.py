"""The quota recheck after scheduling against nova 34.0.0's own conductor code
(`_recheck_quota` -> check_num_instances_quota with zero deltas): the same instances in
two cells and the same quota rows on each side, the same scenarios; passing or the
TooManyInstances with its kwargs."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any

import pymysql
import pytest

from aioconductor.boot.quota import recheck_instance_quota
from aioconductor.config.boot_options import BootOptions, QuotaOptions
from aioconductor.config.settings import Settings
from aioconductor.context import RequestContext
from aioconductor.errors import NovaError
from tests.compat.boot_rows import Side, assert_same, our_database, run_nova
from tests.compat.nova_processes import nova_api_database, nova_database

pytestmark = [pytest.mark.connected, pytest.mark.compat, pytest.mark.timeout(600)]

CELL0 = "00000000-0000-0000-0000-000000000000"
CELL1 = "c1c1c1c1-1111-4111-8111-111111111111"


@dataclass(frozen=True)
class QuotaSide:
    side: Side  # API database + cell1
    cell0: str


@pytest.fixture(scope="module")
def sides() -> Iterator[tuple[QuotaSide, QuotaSide]]:
    with ExitStack() as stack:
        made = []
        for who in ("nova", "ours"):
            cell1 = stack.enter_context(nova_database(f"quota_{who}"))
            cell0 = stack.enter_context(nova_database(f"quota_{who}_c0"))
            api = stack.enter_context(nova_api_database(f"quota_{who}_api"))
            made.append(QuotaSide(Side(cell1, api), cell0))
        yield made[0], made[1]


# (project, user, vcpus, memory_mb, vm_state, deleted, hidden, in cell0)
INSTANCES: list[tuple[str, str, int, int, str | None, bool, bool, bool]] = [
    ("p-pass", "u1", 1, 512, "active", False, False, False),
    ("p-pass", "u1", 1, 512, "building", False, False, False),
    ("p-pass", "u2", 1, 512, "error", False, False, True),
    *[("p-inst", "u1", 1, 512, "active", False, False, i == 0) for i in range(4)],
    *[("p-cores", "u1", 2, 512, "active", False, False, False) for _ in range(3)],
    ("p-user", "u1", 1, 512, "active", False, False, False),
    ("p-user", "u1", 1, 512, "active", False, False, True),
    ("p-user", "u2", 1, 512, "active", False, False, False),
    *[("p-class", "u1", 1, 512, "active", False, False, False) for _ in range(3)],
    ("p-hidden", "u1", 1, 512, "active", False, False, False),
    ("p-hidden", "u1", 1, 512, "active", False, True, False),
    ("p-hidden", "u1", 1, 512, "soft-delete", False, False, False),
    ("p-hidden", "u1", 1, 512, None, False, False, False),
    ("p-hidden", "u1", 1, 512, "active", True, False, True),
    *[("p-unl", "u1", 1, 512, "active", False, False, False) for _ in range(5)],
    *[("p-multi", "u1", 1, 512, "active", False, False, False) for _ in range(3)],
    *[("p-off", "u1", 1, 512, "active", False, False, False) for _ in range(4)],
]
QUOTAS = [("p-cores", "cores", 4), ("p-unl", "instances", -1), ("p-multi", "cores", 1),
          ("p-multi", "ram", 100), ("p-user", "instances", 5)]  # fmt: skip
USER_QUOTAS = [("p-user", "u1", "instances", 1)]
CLASSES = [("gold", "ram", 1024)]


def _scenario(project: str, **extra: Any) -> dict[str, Any]:
    return {"project_id": project, "vcpus": 1, "memory_mb": 512, "requested": 2, **extra}


SCENARIOS = [
    _scenario("p-pass"),
    _scenario("p-inst", overrides=[["quota", "instances", 3]]),
    _scenario("p-cores", vcpus=2),
    _scenario("p-user", requested=1),
    _scenario("p-user", user_id="u2", ctx_user="u2"),
    _scenario("p-class", quota_class="gold"),
    _scenario("p-hidden", overrides=[["quota", "instances", 2]]),  # 1 live + NULL vm_state
    _scenario("p-unl", overrides=[["quota", "instances", 2]]),
    _scenario("p-multi", requested=3),
    _scenario("p-off", overrides=[["quota", "instances", 3], ["quota", "recheck_quota", False]]),
]


def _seed(side: QuotaSide, default_class: bool = False) -> None:
    def run(db: str, sql: str, rows: list[tuple[Any, ...]]) -> None:
        conn = pymysql.connect(host="127.0.0.1", user="root", database=db, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.executemany(sql, rows)
        finally:
            conn.close()

    if default_class:
        sql = "INSERT INTO quota_classes (class_name, resource, hard_limit) VALUES (%s, %s, %s)"
        run(side.side.api, sql, [("default", "instances", 2)])
        return
    for in_cell0 in (False, True):
        rows = [
            (str(uuidlib.uuid5(uuidlib.NAMESPACE_OID, f"{i}")), project, user, vcpus, memory,
             state, 1 if deleted else 0, hidden)
            for i, (project, user, vcpus, memory, state, deleted, hidden, cell0)
            in enumerate(INSTANCES) if cell0 == in_cell0
        ]  # fmt: skip
        run(
            side.cell0 if in_cell0 else side.side.cell,
            "INSERT INTO instances (uuid, project_id, user_id, vcpus, memory_mb, vm_state, "
            "deleted, hidden, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NOW())",
            rows,
        )
    run(side.side.api, "INSERT INTO quotas (project_id, resource, hard_limit) "
        "VALUES (%s, %s, %s)", QUOTAS)  # fmt: skip
    run(side.side.api, "INSERT INTO project_user_quotas (project_id, user_id, resource, "
        "hard_limit) VALUES (%s, %s, %s, %s)", USER_QUOTAS)  # fmt: skip
    run(side.side.api, "INSERT INTO quota_classes (class_name, resource, hard_limit) "
        "VALUES (%s, %s, %s)", CLASSES)  # fmt: skip


def _settings(scenario: dict[str, Any], driver: str | None) -> Settings:
    options: dict[str, Any] = {name: value for _, name, value in scenario.get("overrides", [])}
    if driver:
        options["driver"] = driver
    return Settings(boot=BootOptions(quota=QuotaOptions.model_validate(options)))


async def _ours(
    side: QuotaSide, scenarios: list[dict[str, Any]], driver: str | None = None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(our_database(side.side.api))
        cells = [await stack.enter_async_context(our_database(name))
                 for name in (side.cell0, side.side.cell)]  # fmt: skip
        for scenario in scenarios:
            raw = {"quota_class": scenario.get("quota_class")}
            ctx = RequestContext(
                project_id=scenario["project_id"], user_id=scenario.get("ctx_user", "u1"), raw=raw
            )
            flavor = {"nova_object.name": "Flavor", "nova_object.data": {
                "vcpus": scenario["vcpus"], "memory_mb": scenario["memory_mb"]}}  # fmt: skip
            try:
                await recheck_instance_quota(
                    api, cells, ctx, flavor, scenario["requested"], scenario["project_id"],
                    scenario.get("user_id", "u1"), _settings(scenario, driver),
                )  # fmt: skip
                out.append({"ok": None})
            except NovaError as exc:
                out.append({"error": {"class": type(exc).__name__, "kwargs": exc.kwargs}})
    return out


def _cells(side: QuotaSide) -> list[list[str]]:
    return [[CELL0, "cell0", side.cell0], [CELL1, "cell1", side.side.cell]]


async def test_quota_recheck_matches_nova(sides: tuple[QuotaSide, QuotaSide]) -> None:
    nova, ours = sides
    for side in sides:
        _seed(side)
    want = run_nova(nova.side, "quota", cells=_cells(nova), scenarios=SCENARIOS)
    have = await _ours(ours, SCENARIOS)
    for scenario, got, expected in zip(SCENARIOS, have, want, strict=True):
        assert_same(got, expected, scenario["project_id"])
    errors = {s["project_id"]: w.get("error") for s, w in zip(SCENARIOS, want, strict=True)}
    assert errors["p-pass"] is None
    assert errors["p-off"] is None  # recheck_quota = false
    assert errors["p-hidden"] is None  # hidden, soft-deleted and deleted are not counted
    assert errors["p-unl"] is None  # -1 in the API database beats the option
    too_many = errors["p-inst"]
    assert too_many is not None
    assert too_many["class"] == "TooManyInstances"
    assert too_many["kwargs"] == {"overs": "instances", "req": "2", "used": "3",
                                  "allowed": "3", "code": 413}  # fmt: skip
    assert errors["p-multi"]["kwargs"]["overs"] == "cores, ram"
    assert errors["p-class"]["kwargs"]["overs"] == "ram"
    # the user's own limit (1) with the user's own count (2): a per-user failure
    assert want[3]["error"]["kwargs"]["allowed"] == "1"
    assert want[4] == {"ok": None}  # u2 has no user limit: the project's 5

    # a `default` quota class row now limits every project without its own row
    for side in sides:
        _seed(side, default_class=True)
    again = [_scenario("p-pass"), _scenario("p-unl")]
    want = run_nova(nova.side, "quota", scenarios=again)
    have = await _ours(ours, again)
    assert have == want
    assert want[0]["error"]["kwargs"]["allowed"] == "2"
    assert want[1] == {"ok": None}

    # NoopQuotaDriver: nothing is over (its own process: nova caches the driver)
    noop = [["quota", "driver", "nova.quota.NoopQuotaDriver"]]
    scenarios = [_scenario("p-inst", overrides=[*noop, ["quota", "instances", 3]])]
    want = run_nova(nova.side, "quota", scenarios=scenarios)
    have = await _ours(ours, scenarios)
    assert have == want == [{"ok": None}]
