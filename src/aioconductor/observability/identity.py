"""Who answers on the health port, so that a probe never speaks for another process.

The process serving /healthz and /readyz picks a random instance id at start, puts it in every
health body and writes it to a file named after the port. `aioconductor healthcheck` reads
that file and accepts only an answer carrying the same id: another program on the port (it
answers without that id) or a file left by a service that is gone fails the check. The file
lives in `$XDG_RUNTIME_DIR`, else the temporary directory: in a container, that of the
container, where the HEALTHCHECK runs as the same user.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

SERVICE = "aioconductor"


@dataclass(frozen=True, slots=True)
class Identity:
    instance: str
    pid: int
    service: str = SERVICE

    @classmethod
    def new(cls) -> Identity:
        return cls(instance=uuid.uuid4().hex, pid=os.getpid())

    def fields(self) -> dict[str, object]:
        return asdict(self)


def identity_file(port: int) -> Path:
    """Where the service serving `port` writes its identity."""
    return identity_files(port)[0]


def identity_files(port: int) -> list[Path]:
    # A probe run from a login shell has XDG_RUNTIME_DIR where a system service has none:
    # it also looks in the temporary directory.
    name = f"aioconductor-health-{port}.json"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    temporary = Path(tempfile.gettempdir()) / name
    return [Path(runtime) / name, temporary] if runtime else [temporary]


def publish(identity: Identity, port: int) -> None:
    """Write the file atomically; OSError when it cannot be written."""
    path = identity_file(port)
    temporary = path.with_name(f".{path.name}.{identity.instance}")
    temporary.write_text(json.dumps(identity.fields()))
    os.replace(temporary, path)


def withdraw(identity: Identity, port: int) -> None:
    """Remove the file if it is still ours (a newer service may have taken the port since)."""
    if expected(port) == identity:
        identity_file(port).unlink(missing_ok=True)


def expected(port: int) -> Identity | None:
    """The identity the service on `port` published, None without a readable file."""
    for path in identity_files(port):
        try:
            data = json.loads(path.read_text())
            return Identity(instance=str(data["instance"]), pid=int(data["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def answered_by(body: bytes, identity: Identity) -> bool:
    """True when a health body carries `identity`'s service and instance id."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("service") == identity.service
        and data.get("instance") == identity.instance
    )
