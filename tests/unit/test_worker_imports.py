"""What a worker process imports: its RSS is mostly imported code (docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys

_IMPORT_THE_SERVICE = """
import pkgutil, sys, importlib
import aioconductor
for module in pkgutil.walk_packages(aioconductor.__path__, "aioconductor."):
    if not module.name.startswith("aioconductor.bench") and "__main__" not in module.name:
        importlib.import_module(module.name)
print(" ".join(sorted(m for m in sys.modules if m.startswith("sqlalchemy.orm"))))
"""


def test_the_worker_does_not_load_the_orm() -> None:
    # sqlalchemy.ext.asyncio imports the ORM: 6 MB of RSS in every worker, never used.
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THE_SERVICE], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == []
