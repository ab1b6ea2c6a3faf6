"""Configuration: the operator's nova.conf plus our own [aioconductor] options."""

from __future__ import annotations

from aioconductor.config.settings import (
    AioConductorOptions,
    RabbitOptions,
    Settings,
    load_settings,
)

__all__ = ["AioConductorOptions", "RabbitOptions", "Settings", "load_settings"]
