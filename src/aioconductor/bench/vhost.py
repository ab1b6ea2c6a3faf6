"""A RabbitMQ virtual host of the run's own.

oslo names its topic queues (`conductor`, `scheduler`, `compute.<host>`) whatever the
exchange, so a workload that stands in for nova's scheduler and computes would share those
queues with anything else on the vhost; a private vhost keeps runs apart.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from urllib.parse import quote


def _rabbitmqctl(*args: str) -> bool:
    if shutil.which("rabbitmqctl") is None:
        return False
    done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=False)
    return done.returncode == 0


class Vhost:
    """Created on enter, deleted on exit; `name` is "/" when it could not be created."""

    def __init__(self, prefix: str = "aioc_bench") -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.own = False

    def __enter__(self) -> Vhost:
        self.own = _rabbitmqctl("add_vhost", self.name) and _rabbitmqctl(
            "set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"
        )
        if not self.own:
            self.name = "/"
        return self

    def __exit__(self, *_: object) -> None:
        if self.own:
            _rabbitmqctl("delete_vhost", self.name)

    def url(self, scheme: str) -> str:
        return f"{scheme}://guest:guest@127.0.0.1:5672/{quote(self.name, safe='')}"
