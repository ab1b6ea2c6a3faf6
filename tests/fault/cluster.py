"""A private three-node RabbitMQ cluster for the fault tier: three PrivateRabbit nodes on their
own ports sharing one Erlang cookie, joined with `stop_app; join_cluster; start_app`, as large
clouds run RabbitMQ for OpenStack (with `rabbit_quorum_queue = true`)."""

from __future__ import annotations

import os
import secrets
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.fault.services import PrivateRabbit, list_queues_args, parse_queues

NODES = 3


class ClusterNode(PrivateRabbit):
    """A PrivateRabbit whose HOME (where Erlang reads its cookie) is the cluster's: nodes and
    rabbitmqctl only talk to each other with the same cookie."""

    def __init__(self, base: Path, home: Path) -> None:
        super().__init__(base)
        self.home = home
        self.app_running = False

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "HOME": str(self.home)}

    def start(self) -> None:
        super().start()
        self.app_running = True

    def stop_app(self) -> None:
        self.app_running = False
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.app_running = True

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM (a crash: no connection is closed politely); `start`
        boots it again on the same ports and data, and it rejoins the cluster."""
        self.app_running = False
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def stop(self) -> None:
        self.app_running = False
        super().stop()


class RabbitCluster:
    """Three nodes; `ctl` asks any node whose app runs, so a stopped node does not blind the
    tier. `boot_seconds` is from the first `rabbitmq-server` to a cluster of three."""

    def __init__(self, base: Path, size: int = NODES) -> None:
        self.base = base
        home = base / "home"
        self.nodes = [ClusterNode(base / f"node{i}", home) for i in range(size)]
        self.boot_seconds = 0.0
        self.timings: dict[str, float] = {}

    def start(self) -> None:
        started = time.monotonic()
        home = self.nodes[0].home
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)  # Erlang refuses a cookie others can read
        # the nodes boot side by side (most of a boot is waiting on Erlang, not the CPU)
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            for booted in [pool.submit(node.start) for node in self.nodes]:
                booted.result()
        self.timings["rabbitmq nodes boot"] = time.monotonic() - started
        joined = time.monotonic()
        seed = self.nodes[0]
        for node in self.nodes[1:]:
            node.stop_app()
            node.ctl("join_cluster", seed.node)
            node.start_app()
        self.timings["rabbitmq cluster join"] = time.monotonic() - joined
        running = self.running_nodes()
        if sorted(running) != sorted(n.node for n in self.nodes):
            raise RuntimeError(f"cluster formed with {running}, not all of {len(self.nodes)}")
        self.boot_seconds = time.monotonic() - started
        self.timings["rabbitmq cluster boot"] = self.boot_seconds

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            for stopped in [pool.submit(node.stop) for node in self.nodes]:
                stopped.result()

    def node(self, name: str) -> ClusterNode:
        return next(n for n in self.nodes if n.node == name)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        errors = []
        for node in self.nodes:
            if not node.app_running:
                continue
            try:
                return node.ctl(*args, timeout=timeout)
            except RuntimeError as exc:
                errors.append(f"{node.node}: {exc}")
        raise RuntimeError(f"no running node answered rabbitmqctl {' '.join(args)}: {errors}")

    def ctl_ok(self, *args: str, timeout: float = 60) -> bool:
        try:
            self.ctl(*args, timeout=timeout)
        except RuntimeError:
            return False
        return True

    def running_nodes(self) -> list[str]:
        out = self.ctl("eval", "rabbit_nodes:all_running().")
        return [part.strip(" '\n[]") for part in out.split(",") if "@" in part]

    def leader(self, vhost: str, queue: str) -> str:
        """The node leading quorum queue `queue` in `vhost` (as the cluster sees it now)."""
        out = self.ctl("list_queues", "-p", vhost, "--no-table-headers", "name", "leader")
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return parts[1]
        raise LookupError(f"no queue {queue!r} in vhost {vhost!r}: {out!r}")

    def queue_info(self, vhost: str, queue: str, *items: str) -> list[str]:
        out = self.ctl("list_queues", "-p", vhost, "--no-table-headers", "name", *items)
        for line in out.splitlines():
            parts = line.split("\t") if "\t" in line else line.split()
            if parts and parts[0] == queue:
                return parts[1:]
        raise LookupError(f"no queue {queue!r} in vhost {vhost!r}")

    def queues(self, vhost: str) -> dict[str, tuple[int, int, int]]:
        """(ready, unacked, consumers) per queue, as Lab.queues reads them."""
        return parse_queues(self.ctl(*list_queues_args(vhost)))
