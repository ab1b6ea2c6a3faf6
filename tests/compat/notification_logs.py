"""oslo's `log` notification driver's lines on both sides: nova's (written by
legacy/notification_log.py) and ours (captured here), compared line by line.

A line is its logger (`oslo.messaging.notification.<event_type>`), its level (the
priority) and its text, the masked message as JSON. The text is compared in its key order,
with per-run values (ids, timestamps) replaced by their form.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.compat.notification_queues import by_shape

LOGGER = "oslo.messaging.notification"
Line = dict[str, str]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[Line] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(
            {"logger": record.name, "level": record.levelname, "message": record.getMessage()}
        )


@contextmanager
def capturing() -> Iterator[list[Line]]:
    """Our notifier's log driver lines while the block runs."""
    logger = logging.getLogger(LOGGER)
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# a line of `aioconductor serve`'s text log: "<date> <time> <pid> <LEVEL> <logger>: <text>"
_SERVE_LINE = re.compile(
    rf"^\S+ \S+ \d+ (?P<level>[A-Z]+) (?P<logger>{re.escape(LOGGER)}\.\S+): (?P<message>.*)$"
)


def serve_lines(log: str) -> list[Line]:
    """The log driver's lines in `aioconductor serve`'s (text) log."""
    found = (_SERVE_LINE.match(line) for line in log.splitlines())
    return [
        {"logger": m["logger"], "level": m["level"], "message": m["message"]} for m in found if m
    ]


def nova_lines(path: Path) -> list[Line]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def assert_same_lines(
    ours: list[Line],
    theirs: list[Line],
    normalize: Callable[[dict[str, Any]], dict[str, Any]] = lambda m: m,
) -> None:
    """Same loggers and levels in the same order; each text equal, in its key order, once
    per-run values are replaced by their form (`normalize` gets the {"body": ...} form)."""
    assert [(x["logger"], x["level"]) for x in ours] == [(x["logger"], x["level"]) for x in theirs]
    for n, (mine, nova) in enumerate(zip(ours, theirs, strict=True)):
        have, want = (_text(x["message"], normalize) for x in (mine, nova))
        assert have == want, (n, mine["logger"], _first_difference(have, want))


def _text(message: str, normalize: Callable[[dict[str, Any]], dict[str, Any]]) -> str:
    body = json.loads(message)
    return json.dumps(normalize(by_shape({"body": body}))["body"])


def _first_difference(have: str, want: str) -> str:
    pairs = zip(have, want, strict=False)
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(have), len(want)))
    start, end = max(0, at - 120), at + 80
    return f"ours ...{have[start:end]!r}\nnova ...{want[start:end]!r}"
