"""Notifications nova-conductor sends from the object methods we serve natively.

`wire` builds oslo.messaging's notifier messages, `notifier` sends them off the RPC path,
`service_status` and `instance_update` (with `instance_payloads`) build nova's payloads.
"""

# Every natively served method that notifies in nova 34.0.0, and what it sends (event type,
# format). tests/compat/test_notifying_methods.py scans nova's objects for the methods that
# notify and fails when a native one is missing here; docs/native-methods.md lists the same.
EMITTERS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("Service", "create"): (("service.create", "versioned"),),
    ("Service", "save"): (("service.update", "versioned"),),
    ("Instance", "save"): (
        ("compute.instance.update", "unversioned"),
        ("instance.update", "versioned"),
    ),
}
