"""Repeated log lines are summarised: the first few in full, then a count per reason."""

from __future__ import annotations

import logging

import pytest

from aioconductor.observability.throttle import ThrottledLog


def test_a_flood_logs_a_few_tracebacks_then_one_count_per_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttled = ThrottledLog(logging.getLogger("flood"), full=3, window=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="flood"):
        for i in range(3000):
            now[0] = i * 0.01  # 30 s of bad messages
            try:
                raise ValueError(f"bad {i}")
            except ValueError as exc:
                throttled("invalid", logging.WARNING, "rejected %d", i, exc_info=exc)
            throttled("undecodable", logging.WARNING, "undecodable %d", i)
        now[0] = 61.0
        throttled("invalid", logging.WARNING, "rejected late")
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 3
    assert [r.getMessage() for r in caplog.records if "undecodable" in r.getMessage()][:3] == [
        "undecodable 0",
        "undecodable 1",
        "undecodable 2",
    ]
    assert "2997 more 'invalid' lines in the last 61 s were not logged" in caplog.text
    assert "rejected late" in caplog.text  # a new window logs in full again
    assert len(caplog.records) < 12
