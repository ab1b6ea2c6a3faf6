"""Prometheus metrics, named like faststream's (`..._received_messages_total{method}`).

Each worker records into prometheus_client's default registry; under the supervisor, each
worker starts with `PROMETHEUS_MULTIPROC_DIR` set, so it records into files there, which the
supervisor aggregates on /metrics.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

_PREFIX = "aioconductor"
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

RECEIVED = Counter(
    f"{_PREFIX}_received_messages_total", "RPC requests received", ["method", "route"]
)
FAILED = Counter(
    f"{_PREFIX}_failed_messages_total", "RPC requests answered with a failure", ["method", "error"]
)
REJECTED = Counter(
    f"{_PREFIX}_rejected_messages_total", "Messages refused before dispatch", ["reason"]
)
DURATION = Histogram(
    f"{_PREFIX}_processing_seconds",
    "Time from dispatch to reply for native requests",
    ["method"],
    buckets=_LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge(
    f"{_PREFIX}_in_flight_requests", "Requests being processed", multiprocess_mode="livesum"
)
DB_POOL_IN_USE = Gauge(
    f"{_PREFIX}_db_pool_connections_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(f"{_PREFIX}_db_pool_size", "Database pool size", multiprocess_mode="livesum")
REPLIES_DROPPED = Counter(
    f"{_PREFIX}_replies_dropped_total", "Replies dropped because the reply queue was gone"
)


# The method label comes from the request (an object's name for object calls): a fuzzed or
# broken client could otherwise create a series per message. nova has about 150 methods.
MAX_METHOD_LABELS = 500
OTHER_METHOD = "(other)"


class RequestMetrics:
    """The server's view of metrics: small, so tests can pass a recorder instead.

    Label children are kept here: `labels()` takes a lock and builds a key on every call,
    twice per request.
    """

    def __init__(self) -> None:
        self._received: dict[tuple[str, str], Any] = {}
        self._durations: dict[str, Any] = {}
        self._methods: set[str] = set()

    def _method(self, method: str) -> str:
        if method not in self._methods:
            if len(self._methods) >= MAX_METHOD_LABELS:
                return OTHER_METHOD
            self._methods.add(method)
        return method

    def received(self, method: str, route: str) -> None:
        child = self._received.get((method, route))
        if child is None:
            child = RECEIVED.labels(self._method(method), route)
            if len(self._received) < 2 * MAX_METHOD_LABELS:
                self._received[method, route] = child
        child.inc()

    def failed(self, method: str, error: str) -> None:
        FAILED.labels(self._method(method), error).inc()

    def rejected(self, reason: str) -> None:
        REJECTED.labels(reason).inc()

    def observe(self, method: str, seconds: float) -> None:
        child = self._durations.get(method)
        if child is None:
            child = DURATION.labels(self._method(method))
            if len(self._durations) < MAX_METHOD_LABELS:
                self._durations[method] = child
        child.observe(seconds)

    def in_flight(self, delta: int) -> None:
        IN_FLIGHT.inc(delta)

    def reply_dropped(self) -> None:
        REPLIES_DROPPED.inc()


NOTIFICATIONS_SENT = Counter(
    f"{_PREFIX}_notifications_sent_total",
    "Notifications the broker confirmed, per event type",
    ["event_type"],
)
NOTIFICATIONS_DROPPED = Counter(
    f"{_PREFIX}_notifications_dropped_total",
    "Notifications dropped: queue_full (the broker is slower than the RPCs), failed (retry "
    "attempts spent), unbuildable (a payload JSON cannot carry), shutdown",
    ["reason"],
)
