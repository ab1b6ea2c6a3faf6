"""Polls aioconductor's /readyz during a run, so the audit can tell whether it said "ready"
while it served nothing."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from types import TracebackType


class ReadyzWatcher:
    def __init__(self, port: int, every: float = 0.5) -> None:
        self.url = f"http://127.0.0.1:{port}/readyz"
        self.every = every
        self.samples: list[tuple[float, int]] = []  # (time.time(), status; 0: no answer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ReadyzWatcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.samples.append((time.time(), status))
            self._stop.wait(self.every)
