"""Run N workers, one event loop each, and keep them healthy. Knows nothing about AMQP.

Like gunicorn's arbiter: signal handlers only enqueue; the main loop dispatches
(TERM/INT graceful stop, second INT stop now, HUP rolling restart with the config re-read,
TTIN/TTOU one worker more/less), reaps dead workers with their cause, restarts them with
backoff, and stops everything with a distinct exit code when a worker fails at boot (bad
config, refused credentials) instead of looping. Workers are fresh interpreters, not forks
(`python -P -m aioconductor.worker_process`): each builds its own loop, connection and engine,
and gets its settings, pickled, on its stdin. They are plain subprocesses, not
multiprocessing's, which would add a resource-tracker process (12 MB) to every deployment.
Each worker's event loop writes a heartbeat into a shared status page (worker_status.py)
every second; a worker whose heartbeat is older than `worker_heartbeat_timeout` (a loop
blocked by a synchronous call) gets SIGABRT, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aioconductor
from aioconductor.config.settings import Settings, load_settings
from aioconductor.errors import ConfigError
from aioconductor.observability.http import HealthReport, WorkerView, serve_http
from aioconductor.worker_status import StatusPage

log = logging.getLogger(__name__)

BOOT_ERROR_EXIT = 4  # same code as a worker's: "do not restart me"
# The name prometheus_client reads (values.py, multiprocess.py); any other is ignored and
# every worker then counts in its own memory, which nobody serves.
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_ABORT_GRACE = 5.0
_MAX_BACKOFF = 30.0


def _worker_env(metrics_dir: str | None = None) -> dict[str, str]:
    """The supervisor's environment, plus the directory our package came from when that is
    not a site directory (a source checkout, an editable install): a worker runs the same
    code as its supervisor, whatever its working directory (`-P` keeps that off its path).
    With `metrics_dir`, prometheus_client in the worker writes its samples to files there,
    which the supervisor's /metrics aggregates."""
    root = str(Path(aioconductor.__file__).resolve().parent.parent)
    env = dict(os.environ)
    if metrics_dir is not None:
        env[METRICS_DIR_VARIABLE] = metrics_dir
    site_dirs = [*site.getsitepackages(), site.getusersitepackages()]
    if root not in {str(Path(d).resolve()) for d in site_dirs}:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    status: StatusPage
    started: float = field(default_factory=time.monotonic)
    aborted_at: float | None = None
    retiring: bool = False

    def is_alive(self) -> bool:
        return self.process.poll() is None

    @property
    def consuming(self) -> bool:
        return self.status.read().consuming

    def view(self, now: float) -> WorkerView:
        status = self.status.read()
        age = time.time() - status.at if status.at else now - self.started
        return WorkerView(
            pid=self.process.pid,
            heartbeat_age=round(age, 3),
            connected=status.connected,
            consuming=status.consuming,
            in_flight=status.in_flight,
            served=status.served,
            db_ok=status.db_ok,
            not_ready=status.not_ready,
            booting=not status.at,
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
        self._metrics_dir = tempfile.mkdtemp(prefix="aioconductor-metrics-")

    # --- entry ---------------------------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, lambda signum, _frame: self.signals.put(signum))
        try:
            http = serve_http(self.settings.aio.metrics_bind, self.report, self.metrics_text)
        except OSError as exc:
            # Probes would find nothing (or another service) there: refuse to run unwatched.
            log.error(
                "cannot start: cannot serve metrics/health on %s: %s",
                self.settings.aio.metrics_bind,
                exc,
            )
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
            return BOOT_ERROR_EXIT
        log.info("supervisor %d starting %d workers", os.getpid(), self.target)
        try:
            return self._loop()
        finally:
            http.shutdown()
            shutil.rmtree(self._metrics_dir, ignore_errors=True)

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
            while time.monotonic() < deadline and not new.consuming:
                if not new.is_alive():
                    log.error("SIGHUP: a new worker died at start; keeping the old ones")
                    return
                time.sleep(0.1)
            self._retire(old)

    # --- workers -------------------------------------------------------------------------

    def _active(self) -> list[_Worker]:
        return [w for w in self.workers if not w.retiring]

    def _spawn(self) -> _Worker:
        status = StatusPage.create()
        argv = [sys.executable, "-P", "-m", "aioconductor.worker_process",
                "--status-fd", str(status.fd), "--supervisor", str(os.getpid())]  # fmt: skip
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, pass_fds=[status.fd], env=_worker_env(self._metrics_dir)
        )
        assert process.stdin is not None
        try:
            with process.stdin:
                pickle.dump(self.settings, process.stdin)
        except BrokenPipeError:  # it died at once; _reap reports its exit code
            pass
        worker = _Worker(process=process, status=status)
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
            if worker.is_alive():
                continue
            self.workers.remove(worker)
            worker.status.close()
            self._mark_dead(worker.process.pid)
            code = worker.process.returncode
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
        if self.workers and all(w.consuming for w in self._active()):
            self._failures = 0  # everyone consuming again: reset the backoff
        return None

    def _check_heartbeats(self) -> None:
        now = time.monotonic()
        timeout = self.settings.aio.worker_heartbeat_timeout
        for worker in self.workers:
            view = worker.view(now)
            if not view.is_silent(timeout):
                continue
            if worker.aborted_at is None:
                if view.booting:
                    log.error(
                        "worker %d sent no heartbeat in %.0f s since its start: SIGABRT",
                        worker.process.pid,
                        view.heartbeat_age,
                    )
                else:
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
        while any(w.is_alive() for w in self.workers) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                if self.signals.get(timeout=0.1) == signal.SIGINT:
                    log.warning("second SIGINT: stopping now")
                    break
        clean = True
        for worker in self.workers:
            if worker.is_alive():
                clean = False
                log.warning("worker %d did not drain in time: SIGKILL", worker.process.pid)
                worker.process.kill()
            worker.process.wait()
            clean = clean and _stopped_cleanly(worker)
            worker.status.close()
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

    def _mark_dead(self, pid: int) -> None:
        if pid:
            from prometheus_client import multiprocess

            with contextlib.suppress(Exception):
                multiprocess.mark_process_dead(pid, self._metrics_dir)  # type: ignore[no-untyped-call]


def _stopped_cleanly(worker: _Worker) -> bool:
    # A worker still starting up has no SIGTERM handler yet, so our SIGTERM ends it by the
    # default action; it had consumed nothing, so there was nothing to drain.
    code = worker.process.returncode
    return code == 0 or (code == -signal.SIGTERM and not worker.consuming)


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
