# Profiles an aioconductor worker for its whole life: `aioconductor serve` with one worker
# (which serves in-process) or a `-m aioconductor.worker_process --status-fd ...` child;
# the stats go to $AIOC_PROFILE_DIR/worker-<pid>.prof. Put its directory on PYTHONPATH.
import os
import sys

if ("--status-fd" in sys.argv or "serve" in sys.argv) and os.environ.get("AIOC_PROFILE_DIR"):
    import atexit
    import cProfile

    _profile = cProfile.Profile()
    _profile.enable()

    def _dump() -> None:
        _profile.disable()
        _profile.dump_stats(os.path.join(os.environ["AIOC_PROFILE_DIR"], f"worker-{os.getpid()}.prof"))

    atexit.register(_dump)
