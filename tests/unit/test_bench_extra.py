"""`aioconductor bench` without the `bench` extra: one line naming the extra, never a traceback.

Issue 21: the compose `bench` profile and the venv of `scripts/serve-local` (base install)
died with `ModuleNotFoundError: No module named 'psutil'`.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# the modules of the extra look uninstalled to this interpreter, as in a base install
WITHOUT = "import sys; sys.modules.update({{m: None for m in {mods!r}}}); " \
    "from aioconductor.cli import main; sys.exit(main())"  # fmt: skip


def bench(*missing: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT.format(mods=list(missing)), "bench",
         "--external", "amqp://guest:guest@127.0.0.1:1/", "--concurrency", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("missing", [("psutil", "matplotlib"), ("psutil",), ("matplotlib",)])
def test_bench_without_the_extra_says_what_to_install(missing: tuple[str, ...]) -> None:
    result = bench(*missing)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'aioconductor[bench]'" in lines[0]
    for name in missing:
        assert name in lines[0]
    assert result.stdout == ""
