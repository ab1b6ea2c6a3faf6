"""Method labels come from requests: a flood of made-up names must not make a series each."""

from __future__ import annotations

from prometheus_client import REGISTRY

from aioconductor.observability.metrics import MAX_METHOD_LABELS, OTHER_METHOD, RequestMetrics


def series(method_prefix: str) -> int:
    return sum(
        1
        for metric in REGISTRY.collect()
        if metric.name == "aioconductor_received_messages"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["method"].startswith(method_prefix)
    )


def test_made_up_method_names_beyond_the_cap_share_one_label() -> None:
    metrics = RequestMetrics()
    for i in range(MAX_METHOD_LABELS + 300):
        metrics.received(f"Fuzz{i}.get", "native")
        metrics.failed(f"Fuzz{i}.get", "UnsupportedObjectError")
    assert series("Fuzz") == MAX_METHOD_LABELS
    total = REGISTRY.get_sample_value(
        "aioconductor_received_messages_total", {"method": OTHER_METHOD, "route": "native"}
    )
    assert total == 300
