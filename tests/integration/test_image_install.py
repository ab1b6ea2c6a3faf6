"""The image's install step and entrypoint, exercised outside Docker.

The same `pip wheel` the build stage runs, the wheel installed into a fresh virtualenv, then
the exact ENTRYPOINT + CMD command line from docker/Dockerfile (config paths pointed at a
temporary /etc/nova) starts, answers nova's ping and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import pytest

from tests import rabbit
from tests.dockerfile import parse
from tests.integration.conftest import OsloClients

pytestmark = pytest.mark.connected

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_installs_and_entrypoint_serves(tmp_path: Path, exchange_name: str) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("aioconductor-*.whl")
    target = tmp_path / "image-venv"
    venv.create(target, with_pip=True)
    # dependencies come from the project's environment (no network needed); the package
    # itself only from the wheel, as in the image
    site = next((target / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(target / "bin" / "pip"), "install", "--no-deps", "--quiet", str(wheel)], check=True
    )

    instructions = [i for i in parse(ROOT / "docker" / "Dockerfile") if i.stage == "runtime"]
    entrypoint = next(i for i in instructions if i.keyword == "ENTRYPOINT").exec_form()
    cmd = next(i for i in instructions if i.keyword == "CMD").exec_form()
    assert entrypoint is not None
    assert cmd is not None
    etc = tmp_path / "etc" / "nova"
    (etc / "nova.conf.d").mkdir(parents=True)
    (etc / "nova.conf").write_text(
        f"[DEFAULT]\ntransport_url = {rabbit.url()}\n"
        f"control_exchange = {exchange_name}\n[aioconductor]\nmetrics_bind = 127.0.0.1:0\n"
    )
    (etc / "nova.conf.d" / "10-host.conf").write_text("[DEFAULT]\nhost = image-test\n")
    argv = [str(target / "bin" / entrypoint[0])] + [
        a.replace("/etc/nova", str(etc)) for a in [*entrypoint[1:], *cmd]
    ]
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(argv, stderr=log.open("wb"))
    clients = OsloClients(exchange_name)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "worker ready" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        reply = clients.client(namespace="baseapi", timeout=10).call({}, "ping", arg="x")
        assert reply == {"service": "conductor", "arg": "x"}
        assert "conductor.image-test" in log.read_text()  # the conf.d file was read
    finally:
        clients.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
