"""A fresh nova cell database (nova's own db sync) with compute services to heart-beat."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import create_engine, insert, select

from aioconductor import NOVA_SERVICE_VERSION
from aioconductor.db.schema import services
from aioconductor.novaenv import create_database, db_sync, ensure_nova_venv
from aioconductor.novaenv.database import cell_url
from aioconductor.objects._service_rows import service_primitive
from aioconductor.objects.primitives import utcnow


def build_database(name: str, computes: int) -> list[dict[str, Any]]:
    """Create `name` with nova's schema and `computes` nova-compute services; returns their
    Service primitives as a compute would hold them."""
    create_database(name)
    db_sync(ensure_nova_venv(), name)
    engine = create_engine(cell_url(name))
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(services),
                [
                    {
                        "created_at": utcnow(),
                        "host": f"compute-{i:04d}",
                        "binary": "nova-compute",
                        "topic": "compute",
                        "report_count": 0,
                        "disabled": False,
                        "deleted": 0,
                        "forced_down": False,
                        "version": NOVA_SERVICE_VERSION,
                        "uuid": str(uuid.uuid4()),
                    }
                    for i in range(computes)
                ],
            )
            rows = (
                conn.execute(select(services).where(services.c.binary == "nova-compute"))
                .mappings()
                .all()
            )
        return [service_primitive(dict(row)) for row in rows]
    finally:
        engine.dispose()
