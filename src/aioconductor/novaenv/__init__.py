"""nova 34.0.0 in its own virtualenv: the oracle for tests, the baseline for benchmarks.

nova pins its own dependencies (SQLAlchemy < 2.1, eventlet, ...), so it never shares our
virtualenv; we drive it across processes. Default location: `<repo>/.venv-nova`, or
`$AIOCONDUCTOR_NOVA_VENV`.
"""

from __future__ import annotations

from aioconductor.novaenv.database import create_database, db_sync, drop_database, prepare_database
from aioconductor.novaenv.venv import NOVA_REQUIREMENTS, NovaVenv, ensure_nova_venv

__all__ = [
    "NOVA_REQUIREMENTS",
    "NovaVenv",
    "create_database",
    "db_sync",
    "drop_database",
    "ensure_nova_venv",
    "prepare_database",
]
