"""Native handlers for nova's remotable object methods, one module per object family.

Importing this package registers every handler (see registry.py).
"""

from __future__ import annotations

import importlib
import pkgutil

_SUPPORT_MODULES = {"catalog", "primitives", "registry"}


def load_all() -> None:
    """Import every object-family module so its handlers register themselves."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SUPPORT_MODULES and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
