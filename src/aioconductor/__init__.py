"""aioconductor: an asyncio-native, drop-in replacement for OpenStack nova-conductor."""

from __future__ import annotations

__version__ = "0.1.0"

# The nova release whose wire formats, object versions and schema we match.
NOVA_RELEASE = "34.0.0"
# nova.objects.service.SERVICE_VERSION in nova 34.0.0: written to our own services row.
NOVA_SERVICE_VERSION = 74
