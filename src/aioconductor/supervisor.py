"""Run N workers, one event loop each, and keep them healthy. Knows nothing about AMQP.

Like gunicorn's arbiter: signal handlers only enqueue; the main loop dispatches
(TERM/INT graceful stop, second INT stop now, HUP rolling restart with the config re-read,
TTIN/TTOU one worker more/less), reaps dead workers with their cause, restarts them with
backoff, and stops everything with a distinct exit code when a worker fails at boot (bad
config, refused credentials) instead of looping. Workers are spawned, not forked: each builds
its own loop, connection and engine. Each worker's event loop writes a heartbeat into shared
memory every second; a worker whose heartbeat is older than `worker_heartbeat_timeout` (a
loop blocked by a synchronous call) gets SIGABRT, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import ConfigError
from aioconductor.observability.http import HealthReport, WorkerView, serve_http

log = logging.getLogger(__name__)

BOOT_ERROR_EXIT = 4  # same code as a worker's: "do not restart me"
_ABORT_GRACE = 5.0
_MAX_BACKOFF = 30.0
# Shared heartbeat slot: at, connected, consuming, in_flight, served, db_ok (-1 unknown)
_FIELDS = 6


def _worker_entry(settings: Settings, slot: Any, parent: int) -> None:
    """Runs in the spawned child: everything is built here, nothing inherited."""
    from aioconductor import worker
    from aioconductor.observability.logging import configure

    configure(settings.aio.log_level, settings.aio.log_format)
    block_after = float(os.environ.get("AIOC_TEST_BLOCK_LOOP_AFTER", "0") or 0)
    started = time.monotonic()

    def beat(health: worker.WorkerHealth) -> None:
        if os.getppid() != parent:  # the supervisor died: drain and go
            os.kill(os.getpid(), signal.SIGTERM)
        db = -1.0 if health.db_ok is None else float(health.db_ok)
        slot[:] = [
            health.at,
            health.connected,
            health.consuming,
            health.in_flight,
            health.served,
            db,
        ]
        if block_after and time.monotonic() - started > block_after:
            time.sleep(3600)  # test hook: a loop stuck in a synchronous call

    raise SystemExit(worker.run(settings, health=beat, serve_http=False))


@dataclass
class _Worker:
    process: Any
    slot: SynchronizedArray[float]
    started: float = field(default_factory=time.monotonic)
    aborted_at: float | None = None
    retiring: bool = False

    def view(self, now: float) -> WorkerView:
        at, connected, consuming, in_flight, served, db = self.slot[:]
        age = time.time() - at if at else now - self.started
        return WorkerView(
            pid=self.process.pid or 0,
            heartbeat_age=round(age, 3),
            connected=bool(connected),
            consuming=bool(consuming),
            in_flight=int(in_flight),
            served=int(served),
            db_ok=None if db < 0 else bool(db),
        )


class Supervisor:
    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.target = count
        self.workers: list[_Worker] = []
        self.signals: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.restarts = 0
        self._failures = 0
        self._next_spawn = 0.0
        self._mp = multiprocessing.get_context("spawn")
        self._metrics_dir = tempfile.mkdtemp(prefix="aioconductor-metrics-")
        # workers inherit it: prometheus_client then writes per-process files we aggregate
        os.environ["PROMETHEUS_MULTIPROCESS_DIR"] = self._metrics_dir

    # --- entry ---------------------------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, lambda signum, _frame: self.signals.put(signum))
        try:
            http = serve_http(self.settings.aio.metrics_bind, self.report, self.metrics_text)
        except OSError as exc:
            log.error("cannot serve metrics on %s: %s", self.settings.aio.metrics_bind, exc)
            http = None
        log.info("supervisor %d starting %d workers", os.getpid(), self.target)
        try:
            return self._loop()
        finally:
            if http is not None:
                http.shutdown()

    def _loop(self) -> int:
        while True:
            while not self.signals.empty():
                code = self._handle(self.signals.get())
                if code is not None:
                    return code
            code = self._reap()
            if code is not None:
                return code
            self._check_heartbeats()
            self._spawn_missing()
            time.sleep(0.1)

    # --- signals -------------------------------------------------------------------------

    def _handle(self, signum: int) -> int | None:
        name = signal.Signals(signum).name
        if signum in (signal.SIGTERM, signal.SIGINT):
            log.info("%s: stopping gracefully (send SIGINT again to stop now)", name)
            return self.stop(graceful=True)
        if signum == signal.SIGTTIN:
            self.target += 1
            log.info("SIGTTIN: %d workers", self.target)
        elif signum == signal.SIGTTOU and self.target > 1:
            self.target -= 1
            log.info("SIGTTOU: %d workers", self.target)
            self._retire(self._active()[-1])
        elif signum == signal.SIGHUP:
            self._reload()
        return None

    def _reload(self) -> None:
        from pathlib import Path

        try:
            self.settings = load_settings([Path(p) for p in self.settings.config_files])
        except ConfigError as exc:
            log.error("SIGHUP: keeping the running configuration: %s", exc)
            return
        log.info("SIGHUP: restarting %d workers one by one", len(self._active()))
        for old in list(self._active()):
            new = self._spawn()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not new.slot[2]:
                if not new.process.is_alive():
                    log.error("SIGHUP: a new worker died at start; keeping the old ones")
                    return
                time.sleep(0.1)
            self._retire(old)

    # --- workers -------------------------------------------------------------------------

    def _active(self) -> list[_Worker]:
        return [w for w in self.workers if not w.retiring]

    def _spawn(self) -> _Worker:
        slot: SynchronizedArray[float] = self._mp.Array("d", _FIELDS)
        slot[5] = -1.0
        process = self._mp.Process(
            target=_worker_entry,
            args=(self.settings, slot, os.getpid()),
            name="aioconductor-worker",
        )
        process.start()
        worker = _Worker(process=process, slot=slot)
        self.workers.append(worker)
        log.info("worker %d started", process.pid)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.retiring = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.process.pid, signal.SIGTERM)

    def _spawn_missing(self) -> None:
        now = time.monotonic()
        while len(self._active()) < self.target and now >= self._next_spawn:
            self._spawn()

    def _reap(self) -> int | None:
        for worker in list(self.workers):
            if worker.process.is_alive():
                continue
            worker.process.join()
            self.workers.remove(worker)
            self._mark_dead(worker.process.pid)
            code = worker.process.exitcode
            if worker.retiring:
                log.info("worker %d stopped (exit %s)", worker.process.pid, code)
                continue
            if code == BOOT_ERROR_EXIT:
                log.error(
                    "worker %d could not boot (configuration or credentials): stopping",
                    worker.process.pid,
                )
                self.stop(graceful=False)
                return BOOT_ERROR_EXIT
            self.restarts += 1
            self._failures += 1
            delay = min(0.5 * 2 ** (self._failures - 1), _MAX_BACKOFF)
            self._next_spawn = time.monotonic() + delay
            log.error(
                "worker %d died: %s; restarting in %.1f s", worker.process.pid, _cause(code), delay
            )
        if self.workers and all(w.slot[2] for w in self._active()):
            self._failures = 0  # everyone consuming again: reset the backoff
        return None

    def _check_heartbeats(self) -> None:
        now = time.monotonic()
        timeout = self.settings.aio.worker_heartbeat_timeout
        for worker in self.workers:
            if worker.view(now).heartbeat_age <= timeout:
                continue
            if worker.aborted_at is None:
                log.error(
                    "worker %d silent for over %.0f s (event loop blocked): SIGABRT",
                    worker.process.pid,
                    timeout,
                )
                worker.aborted_at = now
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGABRT)
            elif now - worker.aborted_at > _ABORT_GRACE:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGKILL)

    def stop(self, *, graceful: bool) -> int:
        """SIGTERM everyone, wait up to the grace period (a second SIGINT cuts it short),
        then SIGKILL whoever is left. 0 when every worker drained in time."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        deadline = time.monotonic() + self.settings.graceful_shutdown_timeout + 5
        while any(w.process.is_alive() for w in self.workers) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                if self.signals.get(timeout=0.1) == signal.SIGINT:
                    log.warning("second SIGINT: stopping now")
                    break
        clean = True
        for worker in self.workers:
            if worker.process.is_alive():
                clean = False
                log.warning("worker %d did not drain in time: SIGKILL", worker.process.pid)
                worker.process.kill()
            worker.process.join()
            clean = clean and _stopped_cleanly(worker)
        self.workers.clear()
        return 0 if clean else 1

    # --- observability -------------------------------------------------------------------

    def report(self) -> HealthReport:
        now = time.monotonic()
        return HealthReport(
            workers=[w.view(now) for w in self._active()],
            expected=self.target,
            heartbeat_timeout=self.settings.aio.worker_heartbeat_timeout,
        )

    def metrics_text(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self._metrics_dir)  # type: ignore[no-untyped-call]
        report = self.report()
        own = [
            "# TYPE aioconductor_worker_restarts_total counter",
            f"aioconductor_worker_restarts_total {self.restarts}",
            "# TYPE aioconductor_workers gauge",
            f"aioconductor_workers {len(report.workers)}",
            "# TYPE aioconductor_worker_heartbeat_age_seconds gauge",
            *(
                f'aioconductor_worker_heartbeat_age_seconds{{pid="{w.pid}"}} {w.heartbeat_age}'
                for w in report.workers
            ),
        ]
        return generate_latest(registry) + ("\n".join(own) + "\n").encode()

    def _mark_dead(self, pid: int | None) -> None:
        if pid:
            from prometheus_client import multiprocess

            with contextlib.suppress(Exception):
                multiprocess.mark_process_dead(pid, self._metrics_dir)  # type: ignore[no-untyped-call]


def _stopped_cleanly(worker: _Worker) -> bool:
    # A worker still starting up has no SIGTERM handler yet, so our SIGTERM ends it by the
    # default action; it had consumed nothing, so there was nothing to drain.
    code = worker.process.exitcode
    return code == 0 or (code == -signal.SIGTERM and not worker.slot[2])


def _cause(exitcode: int | None) -> str:
    if exitcode is None:
        return "unknown"
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (killed: out of memory? check the kernel log)" if name == "SIGKILL" else ""
        return f"signal {name}{hint}"
    return f"exit code {exitcode}"


def run(settings: Settings, count: int) -> int:
    return Supervisor(settings, count).run()
