"""[DEFAULT] instance_usage_audit_period as nova.utils.last_completed_audit_period reads it."""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from aioconductor.notifications.audit_period import current, last_completed


@pytest.mark.parametrize(
    ("unit", "now", "begin", "end"),
    [
        ("month", dt(2026, 12, 5, 23, 0), dt(2026, 11, 1), dt(2026, 12, 1)),
        # the instant a period ends still belongs to it: the one before is the last complete
        ("month", dt(2026, 12, 1), dt(2026, 10, 1), dt(2026, 11, 1)),
        ("month", dt(2027, 1, 10), dt(2026, 12, 1), dt(2027, 1, 1)),
        ("month@15", dt(2027, 1, 10), dt(2026, 11, 15), dt(2026, 12, 15)),
        ("year", dt(2026, 12, 5), dt(2025, 1, 1), dt(2026, 1, 1)),
        ("year@3", dt(2026, 2, 5), dt(2024, 3, 1), dt(2025, 3, 1)),
        ("day", dt(2026, 12, 5, 23, 0), dt(2026, 12, 4), dt(2026, 12, 5)),
        ("day@18", dt(2026, 12, 5, 17, 0), dt(2026, 12, 3, 18), dt(2026, 12, 4, 18)),
        ("hour", dt(2026, 12, 5, 23, 10), dt(2026, 12, 5, 22), dt(2026, 12, 5, 23)),
        ("hour@30", dt(2026, 12, 5, 23, 10), dt(2026, 12, 5, 21, 30), dt(2026, 12, 5, 22, 30)),
    ],
)
def test_last_completed_period(unit: str, now: dt, begin: dt, end: dt) -> None:
    assert last_completed(unit, now) == (begin, end)


def test_an_update_reports_the_current_period() -> None:
    now = dt(2026, 12, 5, 23, 0, 1, 500)
    assert current("month", now) == (dt(2026, 12, 1), now)
