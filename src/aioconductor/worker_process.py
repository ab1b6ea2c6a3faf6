"""A supervised worker's process: `python -m aioconductor.worker_process --status-fd N`.

The supervisor starts it as a plain subprocess and writes its settings, pickled, to its
stdin: the worker reads exactly the configuration the supervisor loaded (and re-loaded on
SIGHUP), not files that may have changed since. Its status goes to the page behind
`--status-fd` (worker_status.py) on every tick of its event loop.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import sys
import time

from aioconductor.config.settings import Settings
from aioconductor.worker_status import StatusPage, WorkerStatus

# The supervisor's test hook: this many seconds after its start, once it consumes, the
# worker's loop blocks in a synchronous call.
BLOCK_LOOP_AFTER = "AIOC_TEST_BLOCK_LOOP_AFTER"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aioconductor.worker_process")
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--supervisor", type=int, required=True, help="the supervisor's pid")
    args = parser.parse_args(argv)
    settings = pickle.load(sys.stdin.buffer)
    if not isinstance(settings, Settings):
        raise SystemExit(f"expected Settings on stdin, got {type(settings).__name__}")
    sys.stdin.close()

    from aioconductor import worker
    from aioconductor.observability.logging import configure

    configure(settings.aio.log_level, settings.aio.log_format)
    page = StatusPage.attach(args.status_fd)
    block_after = float(os.environ.get(BLOCK_LOOP_AFTER, "0") or 0)
    started = time.monotonic()

    def beat(health: worker.WorkerHealth) -> None:
        if os.getppid() != args.supervisor:  # the supervisor died: drain and go
            os.kill(os.getpid(), signal.SIGTERM)
        page.write(
            WorkerStatus(
                health.at,
                health.connected,
                health.consuming,
                health.in_flight,
                health.served,
                health.db_ok,
                health.not_ready,
            )
        )
        if block_after and health.consuming and time.monotonic() - started > block_after:
            time.sleep(3600)

    return worker.run(settings, health=beat, serve_http=False)


if __name__ == "__main__":
    sys.exit(main())
