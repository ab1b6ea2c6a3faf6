"""`aioconductor healthcheck`: exit 0 when the service says it is healthy, else 1."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from aioconductor.config.settings import Settings


def healthcheck(settings: Settings, url: str | None = None, ready: bool = False) -> int:
    target = url or f"http://{settings.aio.metrics_bind}/{'readyz' if ready else 'healthz'}"
    try:
        with urllib.request.urlopen(target, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(f"aioconductor: {target} answered {exc.code}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"aioconductor: {target} unreachable: {exc}", file=sys.stderr)
    return 1
