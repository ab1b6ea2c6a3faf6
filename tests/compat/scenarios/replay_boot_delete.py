"""The boot (22 calls) and delete (12 calls) sequences, shared with the benchmark's recorder:
src/aioconductor/bench/nova_side/boot_delete.py (runs in nova's virtualenv)."""

import importlib.util
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[3] / "src/aioconductor/bench/nova_side/boot_delete.py"
_spec = importlib.util.spec_from_file_location("boot_delete", _SOURCE)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
seed = _module.seed
run = _module.run
