"""Target names: any worker count for each family, and a clear error for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from aioconductor.bench import cli
from aioconductor.bench.targets import (
    TARGETS,
    DatabaseAddress,
    TargetSpec,
    _conf,
    notification_queues,
    notifications_conf,
    target_spec,
)
from aioconductor.config.settings import load_settings


def test_every_documented_name_is_a_target() -> None:
    assert {target_spec(name).name for name in TARGETS} == set(TARGETS)


@pytest.mark.parametrize(
    ("name", "kind", "workers", "driver", "backend"),
    [
        ("aioconductor-8w", "aioconductor", 8, "asyncmy", "threading"),
        ("aioconductor-3w-aiomysql", "aioconductor", 3, "aiomysql", "threading"),
        ("aioconductor-1w-asyncmy", "aioconductor", 1, "asyncmy", "threading"),
        ("nova-threading-4w", "nova", 4, "pymysql", "threading"),
        ("nova-eventlet-pymysql-2w", "nova", 2, "pymysql", "eventlet"),
        ("nova-eventlet-mysqldb-3w", "nova", 3, "mysqldb", "eventlet"),
    ],
)
def test_a_name_gives_its_family_workers_and_driver(
    name: str, kind: str, workers: int, driver: str, backend: str
) -> None:
    assert target_spec(name) == TargetSpec(name, kind, workers, driver, backend)


def test_the_worker_count_reaches_the_conductors_config() -> None:
    conf = _conf(target_spec("nova-eventlet-mysqldb-3w"), "ex", DatabaseAddress("db"))
    assert "workers = 3\n" in conf
    assert "concurrency_backend = eventlet\n" in conf
    assert "connection = mysql+mysqldb://" in conf


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("aioconductor", "expected <family>-<N>w"),
        ("nova-eventlet-2w", "expected <family>-<N>w"),
        ("aioconductor-0w", "workers must be 1 to 64"),
        ("nova-threading-65w", "workers must be 1 to 64"),
        ("nova-threading-1w-aiomysql", "for aioconductor targets only"),
    ],
)
def test_a_wrong_name_says_what_is_wrong(name: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        target_spec(name)


def test_the_command_refuses_an_unknown_target_before_building_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--targets", "aioconductor-1w,nova-2w", "--out", "/nonexistent/out"])
    assert exit_.value.code == 2
    assert "unknown target 'nova-2w'" in capsys.readouterr().err


def test_a_socket_run_points_every_driver_at_the_socket() -> None:
    for name in ("aioconductor-1w", "nova-eventlet-mysqldb-1w", "nova-threading-1w"):
        conf = _conf(
            target_spec(name), "ex", DatabaseAddress("db", socket="/run/mysqld/mysqld.sock")
        )
        assert "@localhost/db?unix_socket=/run/mysqld/mysqld.sock\n" in conf
        assert "127.0.0.1:3306" not in conf


def test_the_socket_and_the_delaying_relay_exclude_each_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--db-socket", str(tmp_path / "none.sock"), "--out", str(tmp_path)])
    assert "no Unix socket there" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--db-socket", "/x.sock", "--db-delay-ms", "0,1", "--out", str(tmp_path)])
    assert "exclude each other" in capsys.readouterr().err


def test_a_notifications_run_sends_both_formats_to_the_queues_it_deletes(tmp_path: Path) -> None:
    # issue 22's benchmark: what the run deletes afterwards must be what the targets fill
    conf = tmp_path / "nova.conf"
    conf.write_text(
        _conf(target_spec("aioconductor-1w"), "ex", DatabaseAddress("db"), notify_tag="run1")
    )
    notes = load_settings([conf]).notifications
    assert notes.notify_on_state_change == "vm_and_task_state"
    assert "messagingv2" in notes.drivers
    topics = [*notes.topics, *notes.versioned_topics]
    assert [f"{topic}.info" for topic in topics] == notification_queues("run1")
    nova_side = _conf(
        target_spec("nova-threading-1w"), "ex", DatabaseAddress("db"), notify_tag="run1"
    )
    assert notifications_conf("run1") in nova_side


def test_a_run_without_notifications_sets_none() -> None:
    assert "[notifications]" not in _conf(
        target_spec("aioconductor-1w"), "ex", DatabaseAddress("db")
    )
