"""Create (once) and locate the virtualenv that holds nova 34.0.0."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from aioconductor import NOVA_RELEASE

NOVA_REQUIREMENTS = (f"nova=={NOVA_RELEASE}", "PyMySQL", "mysqlclient")
_MARKER = ".aioconductor-nova-installed"


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
        return (self.path / _MARKER).exists() and self.bin("nova-manage").exists()


def ensure_nova_venv(path: Path | None = None) -> NovaVenv:
    """The nova virtualenv at `path`, installing nova and its MySQL drivers on first use."""
    venv = NovaVenv(path or default_path())
    if venv.installed:
        return venv
    print(f"installing {' '.join(NOVA_REQUIREMENTS)} into {venv.path}", file=sys.stderr)
    if not venv.python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv.path)], check=True)
    pip = [str(venv.python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *NOVA_REQUIREMENTS], check=True)
    (venv.path / _MARKER).write_text(NOVA_RELEASE)
    return venv
