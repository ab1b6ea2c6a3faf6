"""`aioconductor healthcheck`: exit 0 when this service says it is healthy, else 1.

"This service": the answer must carry the instance id the service published for its port
(see identity.py), so another program on the port never passes for it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request

from aioconductor.config.settings import Settings
from aioconductor.observability.identity import answered_by, expected, identity_files


def healthcheck(settings: Settings, url: str | None = None, ready: bool = False) -> int:
    target = url or f"http://{settings.aio.metrics_bind}/{'readyz' if ready else 'healthz'}"
    port = urllib.parse.urlsplit(target).port or 80
    identity = expected(port)
    if identity is None:
        print(
            f"aioconductor: no aioconductor serves health on port {port} here "
            f"(none of {', '.join(str(p) for p in identity_files(port))} exists)",
            file=sys.stderr,
        )
        return 1
    try:
        with urllib.request.urlopen(target, timeout=5) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as exc:
        print(f"aioconductor: {target} answered {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"aioconductor: {target} unreachable: {exc}", file=sys.stderr)
        return 1
    if not answered_by(body, identity):
        print(
            f"aioconductor: {target} is not answered by this aioconductor "
            f"(pid {identity.pid}, instance {identity.instance}): another process has the port",
            file=sys.stderr,
        )
        return 1
    return 0
