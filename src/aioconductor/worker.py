"""One worker: one process, one uvloop event loop, one AMQP connection, one DB pool.

Startup -> serve -> drain -> close. A worker is a complete conductor on its own; the
supervisor only runs several of them. Everything here is built inside the process that
runs it (never inherited across a fork).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aioconductor.conductor import routing
from aioconductor.conductor.endpoints import ComputeTaskEndpoint, conductor_endpoints
from aioconductor.config.settings import Settings
from aioconductor.db.engine import Database
from aioconductor.db.startup import StartupRetries, wait_for_database
from aioconductor.errors import BootError
from aioconductor.messaging.dispatcher import Dispatcher
from aioconductor.messaging.server import Forwarder, RpcServer
from aioconductor.notifications.notifier import NO_NOTIFICATIONS, Notifier
from aioconductor.objects import load_all, registry
from aioconductor.objects.registry import UrlDefaults

log = logging.getLogger(__name__)

_TICK_SECONDS = 1.0
_DB_CHECK_EVERY = 10  # ticks
_DB_CHECK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """What the worker says about itself on every loop tick."""

    pid: int
    at: float
    connected: bool
    consuming: bool
    in_flight: int
    served: int
    db_ok: bool | None
    not_ready: tuple[str, ...] = ()  # why it cannot take calls now; () when it can


class Background(Protocol):
    """A task the worker runs beside the server (e.g. our own services-row heartbeat)."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


HealthSink = Callable[[WorkerHealth], None]


class Worker:
    def __init__(
        self,
        settings: Settings,
        *,
        health: HealthSink | None = None,
        connect_attempts: int | None = None,
    ) -> None:
        self.settings = settings
        self._health = health
        self._connect_attempts = connect_attempts
        self.db: Database | None = None
        self.api_db: Database | None = None
        self.server: RpcServer | None = None
        self.notifier: Notifier | None = None
        self._db_ok: bool | None = None
        self._background: list[Background] = []
        self._closing: list[Callable[[], Awaitable[None]]] = []
        self._phase = "starting"  # then "serving", then "stopping"
        self._db_check: asyncio.Task[None] | None = None
        self.last_tick = time.time()
        self.last_health: WorkerHealth | None = None

    async def run(self, stop: asyncio.Event) -> bool:
        """Serve until `stop` is set; True when the drain finished in time.

        The heartbeat ticks from the start, so a worker still waiting for RabbitMQ or its
        database is alive (not ready), and `stop` ends start-up too: a SIGTERM is never left
        waiting behind a broker that does not answer.
        """
        ticker = asyncio.create_task(self._tick_forever(), name="worker-heartbeat")
        try:
            if await _unless_stopped(self.startup(), stop):
                self._phase = "serving"
                await stop.wait()
            else:
                log.info("stopped during start-up")
        finally:
            self._phase = "stopping"
            try:
                drained = await self.shutdown()
            finally:
                # Ticking on through the drain: a draining worker is not a stuck one.
                ticker.cancel()
                if self._db_check is not None:
                    self._db_check.cancel()
        return drained

    async def startup(self) -> None:
        load_all()
        if self.settings.database_connection is not None:
            self.db = Database.from_settings(self.settings)
            # before consuming: nova-conductor takes no call until its database answers
            await wait_for_database(self.db, StartupRetries.from_settings(self.settings))
            self._db_ok = True
        else:
            log.warning("no [database] connection: object calls will be forwarded or refused")
        # Opened on first use, as oslo.db opens nova's: the cell database is the one a
        # conductor cannot start without, the API database serves a few start-up lookups.
        self.api_db = Database.for_api(self.settings)
        if self.api_db is None:
            log.info("no [api_database] connection: cell and host mappings are not served here")
        forwarder = _make_forwarder(self.settings)
        self.notifier = notifier = Notifier(self.settings)
        endpoints = conductor_endpoints(
            self.db,
            self.settings.forwarded_pairs,
            api_db=self.api_db,
            url_defaults=_url_defaults(self.settings),
            notifier=notifier,
        )
        self.server = RpcServer(
            self.settings,
            Dispatcher(endpoints),
            forwarder=forwarder,
            describe=routing.describe,
            connect_attempts=self._connect_attempts,
        )
        await self.server.start()
        await notifier.start(self.server.connection)
        if self.api_db is not None or self.db is not None:
            self._serve_boots(endpoints)
        if forwarder is not None:
            await forwarder.attach(self.server.connection)
        if self.db is not None and self.settings.aio.register_service:
            self._background.append(_service_record(self.db, self.settings))
        for task in self._background:
            await task.start()
        forwarded = self.settings.forwarded_pairs
        if forwarded:
            log.info(
                "forwarded to the legacy conductor although served natively: %s",
                ", ".join(sorted(f"{o}.{m}" for o, m in forwarded)),
            )
        unserved = self.settings.unserved_notifications - forwarded
        if unserved:
            log.warning(
                "notifications of %s are dropped, as configured",
                ", ".join(sorted(f"{o}.{m}" for o, m in unserved)),
            )
        # What startup built (modules, schema, pools) lives as long as the process: freezing it
        # keeps the collector's full passes from walking it again after every few thousand calls.
        gc.freeze()
        served = registry.served_names(
            self.settings.forwarded_pairs, api_database=self.api_db is not None
        )
        log.info(
            "worker ready: %d native object methods: %s",
            len(served),
            ", ".join(served) or "(none)",
        )

    async def shutdown(self) -> bool:
        drained = True
        if self.server is not None:
            # the notifier stops after the RPCs, so what they queued goes out before the
            # connection closes
            notifier_stop = self.notifier.stop if self.notifier is not None else None
            drained = await self.server.stop(
                self.settings.graceful_shutdown_timeout, before_close=notifier_stop
            )
        elif self.notifier is not None:
            await self.notifier.stop()
        for task in reversed(self._background):
            with contextlib.suppress(Exception):
                await task.stop()
        for closing in self._closing:
            with contextlib.suppress(Exception):
                await closing()
        for db in (self.db, self.api_db):
            if db is not None:
                await db.close()
        return drained

    def _serve_boots(self, endpoints: list[Any]) -> None:
        """Boots (with an API database) and reschedules (with a cell database: a cell
        conductor serves its computes' reschedules) natively from here on: the scheduler,
        computes and placement need the server's connection, so they come after it (a boot
        arriving before is forwarded)."""
        from aioconductor.boot.services import boot_services

        assert self.server is not None
        services, transports, cells = boot_services(
            self.settings,
            self.server.connection,
            self.db,
            self.api_db,
            _url_defaults(self.settings),
            self.notifier if self.notifier is not None else NO_NOTIFICATIONS,
        )
        self._closing.extend([transports.close, cells.close])
        for endpoint in endpoints:
            if isinstance(endpoint, ComputeTaskEndpoint):
                endpoint.boot = services
        if self.api_db is not None:
            log.info("serving compute_task.schedule_and_build_instances natively")
        log.info("serving compute_task.build_instances natively")

    def health(self) -> WorkerHealth:
        status = self.server.status if self.server else None
        return WorkerHealth(
            pid=os.getpid(),
            at=time.time(),
            connected=bool(status and status.connected),
            consuming=bool(status and status.consuming),
            in_flight=status.in_flight if status else 0,
            served=status.served if status else 0,
            db_ok=self._db_ok,
            not_ready=tuple(self._not_ready()),
        )

    def _not_ready(self) -> list[str]:
        if self._phase != "serving":
            return [self._phase]
        reasons = self.server.problems() if self.server is not None else []
        if self._db_ok is False:
            reasons.append("database not answering")
        return reasons

    async def _tick_forever(self) -> None:
        # Ticks come from the event loop itself: a loop blocked by a synchronous call stops
        # ticking, which is exactly what the supervisor's heartbeat check must notice.
        n = 0
        while True:
            if self._phase == "serving" and self.db is not None:
                if n % _DB_CHECK_EVERY == 0 and (self._db_check is None or self._db_check.done()):
                    # Apart from the tick: a stalled pool must not stop the heartbeat.
                    self._db_check = asyncio.create_task(self._check_db(self.db))
                _record_pool(self.db)
                n += 1
            self.last_tick = time.time()
            self.last_health = health = self.health()
            if self._health is not None:
                self._health(health)
            await asyncio.sleep(_TICK_SECONDS)

    async def _check_db(self, db: Database) -> None:
        try:
            async with asyncio.timeout(_DB_CHECK_TIMEOUT):
                self._db_ok = await db.ping()
        except TimeoutError:
            log.warning("database ping got no answer in %.0f s", _DB_CHECK_TIMEOUT)
            self._db_ok = False


async def _unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run `work` until it ends (True) or `stop` is set first (it is cancelled: False)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        stopped.cancel()
    if task.done():
        task.result()  # its error, if any (a BootError ends the process with exit 4)
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


def _record_pool(db: Database) -> None:
    from aioconductor.observability.metrics import DB_POOL_IN_USE, DB_POOL_SIZE

    pool = db.engine.sync_engine.pool
    DB_POOL_IN_USE.set(getattr(pool, "checkedout", lambda: 0)())
    DB_POOL_SIZE.set(getattr(pool, "size", lambda: 0)())


def _url_defaults(settings: Settings) -> UrlDefaults:
    connection = settings.database_connection
    return UrlDefaults(
        database_connection=connection.get_secret_value() if connection else None,
        transport_url=settings.transport_url.get_secret_value(),
    )


def _make_forwarder(settings: Settings) -> _AttachableForwarder | None:
    if not settings.aio.fallback_host:
        return None
    from aioconductor.conductor.fallback import LegacyForwarder

    return LegacyForwarder(settings)


class _AttachableForwarder(Forwarder, Protocol):
    async def attach(self, connection: object) -> None: ...


def _service_record(db: Database, settings: Settings) -> Background:
    from aioconductor.conductor.service_record import ServiceRecord

    return ServiceRecord(db, settings)


def run(settings: Settings, *, health: HealthSink | None = None, serve_http: bool = True) -> int:
    """Run one worker in this process until SIGTERM/SIGINT; the process exit code.

    Alone (`--workers 1`) it serves /metrics /healthz /readyz itself; under the supervisor
    the supervisor does.
    """
    import uvloop

    try:
        drained: bool = uvloop.run(_serve(settings, health, serve_http))
    except BootError as exc:
        log.error("cannot start: %s", exc)
        return BOOT_ERROR_EXIT
    return 0 if drained else 1


# Distinct from 1 (crash) and 2 (usage/config): tells the supervisor not to restart.
BOOT_ERROR_EXIT = 4


async def _serve(settings: Settings, health: HealthSink | None, serve_http: bool) -> bool:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _request_stop, stop, sig)
    worker = Worker(settings, health=health)
    http = _serve_own_health(worker) if serve_http else None
    try:
        return await worker.run(stop)
    finally:
        if http is not None:
            http.shutdown()


def _serve_own_health(worker: Worker) -> Any:
    from prometheus_client import REGISTRY, generate_latest

    from aioconductor.observability.http import HealthReport, WorkerView, serve_http

    def report() -> HealthReport:
        # The last tick's snapshot: this runs in the HTTP thread, away from the loop.
        h = worker.last_health
        view = WorkerView(
            pid=h.pid if h else os.getpid(),
            heartbeat_age=round(time.time() - worker.last_tick, 3),
            connected=bool(h and h.connected),
            consuming=bool(h and h.consuming),
            in_flight=h.in_flight if h else 0,
            served=h.served if h else 0,
            db_ok=h.db_ok if h else None,
            not_ready=h.not_ready if h else ("starting",),
            booting=h is None,
        )
        return HealthReport([view], 1, worker.settings.aio.worker_heartbeat_timeout)

    bind = worker.settings.aio.metrics_bind
    try:
        return serve_http(bind, report, lambda: generate_latest(REGISTRY))
    except OSError as exc:
        # Probes would find nothing (or another service) there: refuse to run unwatched.
        raise BootError(f"cannot serve metrics/health on {bind}: {exc}") from None


def _request_stop(stop: asyncio.Event, sig: signal.Signals) -> None:
    if stop.is_set():
        return
    log.info("%s received: draining", sig.name)
    stop.set()
