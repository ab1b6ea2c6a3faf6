"""oslo's `use_queue_manager` naming: `<hostname>:<processname>:<n>` instead of a uuid.

The point is that a restarted service reuses its old queue names instead of leaving orphans
for the broker to expire. The counter lives in /dev/shm and is shared by all processes of one
service generation (same process group); a new generation starts again at 1.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class QueueManager:
    def __init__(self, hostname: str, processname: str, directory: Path = Path("/dev/shm")):
        self.hostname = hostname
        self.processname = processname
        self.path = directory / f"{hostname}_{processname}_qmanager"

    def next_name(self) -> str:
        identity = str(os.getpgrp())
        self.path.touch(exist_ok=True)
        with self.path.open("r+", encoding="ascii") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            owner, _, count_text = handle.read().partition(" ")
            count = int(count_text) + 1 if owner == identity and count_text.isdigit() else 1
            handle.seek(0)
            handle.truncate()
            handle.write(f"{identity} {count}")
        return f"{self.hostname}:{self.processname}:{count}"
