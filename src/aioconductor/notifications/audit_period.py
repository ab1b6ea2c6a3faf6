"""nova.utils.last_completed_audit_period, for the audit period of instance notifications.

`[DEFAULT] instance_usage_audit_period` is `hour`, `day`, `month` or `year`, optionally with
an offset (`day@18`: days start at 18:00 UTC; `month@15` on the 15th; `year@3` in March).
An instance update reports the current period: from the end of the last completed one to now.
"""

from __future__ import annotations

import datetime

Period = tuple[datetime.datetime, datetime.datetime]


def last_completed(unit: str, now: datetime.datetime) -> Period:
    """(begin, end) of the period most recently completed before `now` (naive UTC)."""
    name, _, offset_text = unit.partition("@")
    offset = int(offset_text) if offset_text else 0
    if name == "month":
        day = offset or 1
        end = datetime.datetime(now.year, now.month, day)
        if end >= now:
            end = datetime.datetime(*_month_before(now.year, now.month), day)
        begin = datetime.datetime(*_month_before(end.year, end.month), day)
    elif name == "year":
        month = offset or 1
        end = datetime.datetime(now.year, month, 1)
        if end >= now:
            end = datetime.datetime(now.year - 1, month, 1)
            begin = datetime.datetime(now.year - 2, month, 1)
        else:
            begin = datetime.datetime(now.year - 1, month, 1)
    elif name == "day":
        end = datetime.datetime(now.year, now.month, now.day, offset)
        if end >= now:
            end -= datetime.timedelta(days=1)
        begin = end - datetime.timedelta(days=1)
    else:  # hour
        end = now.replace(minute=offset, second=0, microsecond=0)
        if end >= now:
            end -= datetime.timedelta(hours=1)
        begin = end - datetime.timedelta(hours=1)
    return begin, end


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month <= 1 else (year, month - 1)


def current(unit: str, now: datetime.datetime) -> Period:
    """`audit_period_bounds(current_period=True)`: the last period's end, then now."""
    return last_completed(unit, now)[1], now
