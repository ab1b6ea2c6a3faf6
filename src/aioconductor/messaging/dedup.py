"""Drop repeated `_unique_id`s, as oslo's listener does (it keeps the last 16)."""

from __future__ import annotations

from collections import deque


class DuplicateFilter:
    def __init__(self, window: int) -> None:
        self._order: deque[str] = deque()
        self._seen: set[str] = set()
        self._window = window

    def seen_before(self, unique_id: str | None) -> bool:
        """Record unique_id; True if it was already among the last `window` ones."""
        if unique_id is None:
            return False
        if unique_id in self._seen:
            return True
        self._seen.add(unique_id)
        self._order.append(unique_id)
        if len(self._order) > self._window:
            self._seen.discard(self._order.popleft())
        return False
