"""A supervised worker imports the same aioconductor as its supervisor."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

import aioconductor
from aioconductor.supervisor import _worker_env

ROOT = str(Path(aioconductor.__file__).resolve().parent.parent)


def test_a_worker_finds_the_supervisors_package_from_any_directory(tmp_path: Path) -> None:
    decoy = tmp_path / "aioconductor"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy in the working directory')")
    found = subprocess.run(
        [sys.executable, "-P", "-c", "import aioconductor; print(aioconductor.__file__)"],
        env=_worker_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert str(Path(found).resolve()).startswith(ROOT + os.sep)


def test_an_installed_package_adds_nothing_before_the_standard_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = Path(site.getsitepackages()[0]) / "aioconductor" / "__init__.py"
    monkeypatch.setattr(aioconductor, "__file__", str(installed))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert "PYTHONPATH" not in _worker_env()
