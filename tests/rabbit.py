"""RabbitMQ addresses for tests: every test session gets a virtual host of its own.

oslo names the topic queue `conductor` whatever the exchange, so unique exchange names alone
do not keep two runs apart; a private vhost does (see tests/conftest.py).
"""

from __future__ import annotations

import os
from urllib.parse import quote


def vhost() -> str:
    return os.environ.get("AIOC_TEST_RABBIT_VHOST", "/")


def url(scheme: str = "rabbit", *, port: int = 5672, password: str = "guest") -> str:
    return f"{scheme}://guest:{password}@127.0.0.1:{port}/{quote(vhost(), safe='')}"
