"""nova-conductor's RPC surface: endpoints, routing and the legacy fallback."""
