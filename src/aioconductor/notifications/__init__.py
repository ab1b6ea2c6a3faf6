"""Notifications nova-conductor sends from the object methods we serve natively.

`wire` builds oslo.messaging's notifier messages, `notifier` sends them off the RPC path,
`payloads` builds nova's payloads from rows.
"""
