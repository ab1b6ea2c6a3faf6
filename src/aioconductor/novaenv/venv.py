"""Create (once) and locate the virtualenv that holds nova 34.0.0."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aioconductor import NOVA_RELEASE

NOVA_REQUIREMENTS = (f"nova=={NOVA_RELEASE}", "PyMySQL", "mysqlclient")
# The end-to-end tier (tests/e2e) runs placement from the same release series, and installs
# nova's own glance and neutron test fixtures, which import testtools and wsgi_intercept.
# python-memcached: without it nova-api and nova-conductor log an ERROR when dogpile loads
# its cache backends (oslo.cache's memcache_pool backend imports it; distributions ship it).
E2E_REQUIREMENTS = (
    "openstack-placement==16.0.0",
    "testtools",
    "wsgi-intercept",
    "python-memcached",
)
_MARKER = ".aioconductor-nova-installed"
# What the marker records: a virtualenv built from an older list gets the missing packages.
_INSTALLED = "\n".join((NOVA_RELEASE, *NOVA_REQUIREMENTS, *E2E_REQUIREMENTS))


def default_path() -> Path:
    configured = os.environ.get("AIOCONDUCTOR_NOVA_VENV")
    if configured:
        return Path(configured)
    # src/aioconductor/novaenv/venv.py -> the repository root
    return Path(__file__).resolve().parents[3] / ".venv-nova"


@dataclass(frozen=True)
class NovaVenv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    def run(
        self, args: list[str], *, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, input=input_text, capture_output=True, text=True, check=check)

    @property
    def installed(self) -> bool:
        marker = self.path / _MARKER
        return (
            marker.exists()
            and marker.read_text() == _INSTALLED
            and self.bin("nova-manage").exists()
        )


def ensure_nova_venv(path: Path | None = None) -> NovaVenv:
    """The nova virtualenv at `path`, installing nova, its MySQL drivers and what the
    end-to-end tier runs beside it (placement, nova's test fixtures) on first use, or when
    the list of packages has changed since."""
    venv = NovaVenv(path or default_path())
    if venv.installed:
        return venv
    wanted = " ".join((*NOVA_REQUIREMENTS, *E2E_REQUIREMENTS))
    print(f"installing {wanted} into {venv.path}", file=sys.stderr)
    if not venv.python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True)
    pip = [str(venv.python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *NOVA_REQUIREMENTS, *E2E_REQUIREMENTS], check=True)
    (venv.path / _MARKER).write_text(_INSTALLED)
    return venv
