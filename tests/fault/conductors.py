"""The conductor under test as a real subprocess: aioconductor (this worktree's sources) or
nova-conductor 34.0.0 from nova's virtualenv, both reading the same kind of nova.conf."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUR_PYTHON = ROOT / ".venv" / "bin" / "python"
NOVA_BIN = ROOT / ".venv-nova" / "bin"
KINDS = ("aioconductor", "nova-conductor")


class Conductor:
    """One conductor service; `start` returns once it consumes from the `conductor` queue
    (`consumers` reads that from the broker) or `ready_timeout` passed."""

    def __init__(self, kind: str, conf: Path, log: Path, workers: int = 1) -> None:
        assert kind in KINDS, kind
        self.kind = kind
        self.conf = conf
        self.log = log
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_codes: list[int] = []

    def command(self) -> list[str]:
        if self.kind == "aioconductor":
            return [
                str(OUR_PYTHON),
                "-m",
                "aioconductor",
                "serve",
                "--config-file",
                str(self.conf),
                "--workers",
                str(self.workers),
            ]
        return [str(NOVA_BIN / "nova-conductor"), "--config-file", str(self.conf)]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.kind == "aioconductor":
            # the worktree's sources first: a merged fix is what gets tested
            env["PYTHONPATH"] = str(ROOT / "src")
        else:
            env["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "1"
        return env

    def start(self) -> None:
        with self.log.open("ab") as log:
            log.write(f"\n=== start {time.strftime('%H:%M:%S')}: {self.command()}\n".encode())
            self.proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill9(self) -> None:
        """SIGKILL the whole process group (nova-conductor and aioconductor both fork workers)."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self._reap(10)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM, SIGKILL to the group after `grace` s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._reap(10)

    def _reap(self, timeout: float) -> None:
        assert self.proc is not None
        try:
            self.exit_codes.append(self.proc.wait(timeout))
        except subprocess.TimeoutExpired:
            self.exit_codes.append(-999)
        with contextlib.suppress(ProcessLookupError):  # stray workers of the group
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
