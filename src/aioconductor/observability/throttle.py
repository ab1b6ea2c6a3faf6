"""Log lines that a flood of bad input could repeat thousands of times, summarised.

Per reason, the first `full` lines of each window are logged as they come (traceback
included); the rest are only counted, and one line per reason says how many were left out
when the window ends. A fuzzed queue then costs a few dozen lines a minute, not thousands of
tracebacks, and no reason hides another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

_FULL_PER_WINDOW = 5
_WINDOW_SECONDS = 60.0
_MAX_REASONS = 256  # reasons are the caller's categories; a bound all the same


@dataclass
class _Window:
    started: float
    logged: int = 0
    left_out: int = 0


class ThrottledLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        full: int = _FULL_PER_WINDOW,
        window: float = _WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._full = full
        self._window = window
        self._clock = clock
        self._windows: dict[str, _Window] = {}

    def __call__(
        self,
        reason: str,
        level: int,
        msg: str,
        *args: object,
        exc_info: BaseException | bool | None = None,
    ) -> None:
        now = self._clock()
        window = self._windows.get(reason)
        if window is not None and now - window.started >= self._window:
            self._summarise(reason)
            window = None
        if window is None:
            if len(self._windows) >= _MAX_REASONS:
                self.flush()
            window = self._windows[reason] = _Window(now)
        if window.logged < self._full:
            window.logged += 1
            self._log.log(level, msg, *args, exc_info=exc_info)
            return
        window.left_out += 1
        if window.left_out == 1:
            self._log.log(
                level,
                "more %r lines this minute are counted, not logged (%d logged in full)",
                reason,
                self._full,
            )
            self._summarise_later(reason, window.started + self._window - now)

    def flush(self) -> None:
        """Summarise every open window now (at shutdown)."""
        for reason in list(self._windows):
            self._summarise(reason)

    def _summarise(self, reason: str) -> None:
        window = self._windows.pop(reason, None)
        if window is not None and window.left_out:
            self._log.warning(
                "%d more %r lines in the last %.0f s were not logged",
                window.left_out,
                reason,
                self._clock() - window.started,
            )

    def _summarise_later(self, reason: str, delay: float) -> None:
        # Without a later line the count of a burst that then stops would never be told.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the next line for this reason summarises instead
            return
        loop.call_later(max(delay, 0.0), self._summarise, reason)
