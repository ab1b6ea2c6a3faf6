"""Session-wide isolation: a RabbitMQ virtual host per test run, removed afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest


def _rabbitmqctl(*args: str) -> bool:
    if shutil.which("rabbitmqctl") is None:
        return False
    return (
        subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=False).returncode
        == 0
    )


def pytest_configure(config: pytest.Config) -> None:
    if "AIOC_TEST_RABBIT_VHOST" in os.environ:
        return
    name = f"aioc_test_{uuid.uuid4().hex[:10]}"
    if _rabbitmqctl("add_vhost", name) and _rabbitmqctl(
        "set_permissions", "-p", name, "guest", ".*", ".*", ".*"
    ):
        os.environ["AIOC_TEST_RABBIT_VHOST"] = name
        config.stash[_VHOST] = name


def pytest_unconfigure(config: pytest.Config) -> None:
    name = config.stash.get(_VHOST, None)
    if name:
        _rabbitmqctl("delete_vhost", name)
        os.environ.pop("AIOC_TEST_RABBIT_VHOST", None)


_VHOST = pytest.StashKey[str]()
