"""Every boot request's cast accounted for: sent, then one `build_and_run_instance` for it.

The compute stand-ins report each cast they consume here; a boot is done when the cast for
its instance arrives. Casts for instances never sent, a second cast for one instance, and
casts of another method are kept apart, so a run that lost or doubled anything says so.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Ledger:
    sent_at: dict[str, float] = field(default_factory=dict)
    arrived_at: dict[str, float] = field(default_factory=dict)
    hosts: Counter[str] = field(default_factory=Counter)  # casts per compute host
    unknown: list[str] = field(default_factory=list)  # instance uuids never sent
    duplicates: list[str] = field(default_factory=list)
    other_methods: Counter[str] = field(default_factory=Counter)
    _waiters: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def sent(self, uuid: str, at: float) -> asyncio.Future[float]:
        """Record a boot's cast; the future resolves to its latency when its compute cast
        arrives."""
        if uuid in self.sent_at:
            raise ValueError(f"boot {uuid} sent twice")
        self.sent_at[uuid] = at
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiters[uuid] = waiter
        return waiter

    def arrived(self, method: str, uuid: str, host: str, at: float) -> None:
        if method != "build_and_run_instance":
            self.other_methods[method] += 1
            return
        if uuid not in self.sent_at:
            self.unknown.append(uuid)
            return
        if uuid in self.arrived_at:
            self.duplicates.append(uuid)
            return
        self.arrived_at[uuid] = at
        self.hosts[host] += 1
        waiter = self._waiters.pop(uuid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(at - self.sent_at[uuid])

    def missing(self, among: list[str] | None = None) -> list[str]:
        """Boots sent (of `among`, default all) whose compute cast has not arrived."""
        sent = self.sent_at if among is None else among
        return [u for u in sent if u not in self.arrived_at]

    def mark(self) -> Mark:
        """Where the stray counts stand now, for `problems(since=...)`."""
        return Mark(len(self.unknown), len(self.duplicates), Counter(self.other_methods))

    def problems(self, among: list[str] | None = None, since: Mark | None = None) -> list[str]:
        """What is wrong, in words (for the boots `among` and what arrived after `since`,
        default everything); empty when every cast is accounted for."""
        since = since or Mark(0, 0, Counter())
        found = []
        if missing := self.missing(among):
            found.append(f"{len(missing)} boots without a compute cast (e.g. {missing[0]})")
        if unknown := len(self.unknown) - since.unknown:
            found.append(f"{unknown} compute casts for instances never sent")
        if duplicates := len(self.duplicates) - since.duplicates:
            found.append(f"{duplicates} second compute casts for one instance")
        if other := self.other_methods - since.other_methods:
            found.append(f"unexpected compute casts: {dict(other)}")
        return found


@dataclass(frozen=True)
class Mark:
    unknown: int
    duplicates: int
    other_methods: Counter[str]
