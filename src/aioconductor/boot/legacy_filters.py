"""The legacy filter properties a boot cast carries, built as nova's conductor builds them.

`RequestSpec.to_legacy_filter_properties_dict`, then `scheduler_utils.populate_retry` and
`populate_filter_properties` for the selected host. nova-compute reads `retry` from them to
reschedule a failed build (and `limits` for its claims), so the dict must be nova's to the key.
Objects inside (a Destination, a NUMA limit) stay primitives: nova's serializer would turn them
into exactly those on the wire.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aioconductor.boot import server_groups
from aioconductor.errors import NovaError

log = logging.getLogger(__name__)


class MaxRetriesExceeded(NovaError):  # a NoValidHost in nova
    msg_fmt = "Exceeded maximum number of retries. %(reason)s"


def data(primitive: Any) -> dict[str, Any]:
    """The fields of an object primitive (an empty dict for None)."""
    if primitive is None:
        return {}
    found = primitive.get("nova_object.data")
    if not isinstance(found, dict):
        raise ValueError("not an object primitive")
    return found


def limits_dict(limits: Any) -> dict[str, Any]:
    """SchedulerLimits.to_dict: the fields that are not None."""
    return {name: value for name, value in data(limits).items() if value is not None}


def _scheduler_hint(value: Any) -> Any:
    # nova stores every hint as a list; a one-item list reads as its item
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def legacy_filter_properties(spec: dict[str, Any]) -> dict[str, Any]:
    """RequestSpec.to_legacy_filter_properties_dict, from the spec's fields."""
    props: dict[str, Any] = {}
    for name in ("ignore_hosts", "force_hosts", "force_nodes"):
        if spec.get(name):
            props[name] = spec[name]
    retry = spec.get("retry")
    if retry:
        retries = data(retry)
        hosts = data(retries.get("hosts")).get("objects") or []
        props["retry"] = {
            "num_attempts": retries.get("num_attempts"),
            "hosts": [[data(n).get("host"), data(n).get("hypervisor_hostname")] for n in hosts],
        }
    if spec.get("limits"):
        props["limits"] = limits_dict(spec["limits"])
    if spec.get("instance_group"):
        props.update(server_groups.legacy_group_info(spec["instance_group"]))
    hints = spec.get("scheduler_hints")
    if hints:
        props["scheduler_hints"] = {name: _scheduler_hint(value) for name, value in hints.items()}
    if spec.get("requested_destination"):
        props["requested_destination"] = spec["requested_destination"]
    return props


def populate_retry(props: dict[str, Any], instance_uuid: str, max_attempts: int) -> None:
    """scheduler_utils.populate_retry: count this attempt unless rescheduling is off."""
    force_hosts = props.get("force_hosts", [])
    force_nodes = props.get("force_nodes", [])
    if max_attempts == 1 or len(force_hosts) == 1 or len(force_nodes) == 1:
        return
    retry = props.setdefault("retry", {"num_attempts": 0, "hosts": []})
    retry["num_attempts"] += 1
    _log_compute_error(instance_uuid, retry)
    exc_reason = retry.pop("exc_reason", None)
    if retry["num_attempts"] > max_attempts:
        reason = (
            f"Exceeded max scheduling attempts {max_attempts} for instance {instance_uuid}. "
            f"Last exception: {exc_reason}"
        )
        raise MaxRetriesExceeded(reason=reason)


def _log_compute_error(instance_uuid: str, retry: dict[str, Any]) -> None:
    """The failure the compute put in the retry before it rescheduled, as nova logs it."""
    exc = retry.get("exc")
    hosts = retry.get("hosts")
    if not exc or not hosts:
        return
    last_host, last_node = hosts[-1]
    log.error(
        "[instance: %s] Error from last host: %s (node %s): %s",
        instance_uuid,
        last_host,
        last_node,
        exc,
    )


def populate_filter_properties(props: dict[str, Any], selection: dict[str, Any]) -> None:
    """scheduler_utils.populate_filter_properties for the selected host."""
    limits = limits_dict(selection.get("limits"))
    retry = props.get("retry")
    if retry:
        retry["hosts"].append([selection.get("service_host"), selection.get("nodename")])
    if not props.get("force_hosts"):
        props["limits"] = limits


def fill_provider_mapping(spec: Any, selection: dict[str, Any]) -> None:
    """scheduler_utils.fill_provider_mapping: each request group of the spec (a QoS port's
    bandwidth, say) gets the providers placement's candidate mapped it to, for the compute
    to bind the port there. A KeyError when the selection maps no such group, as in nova."""
    groups = data(spec).get("requested_resources")
    if not groups:
        return
    mappings = json.loads(selection["allocation_request"])["mappings"]
    for group in groups:
        fields = data(group)
        fields["provider_uuids"] = mappings[fields["requester_id"]]
        changes = group.setdefault("nova_object.changes", [])
        if "provider_uuids" not in changes:
            changes.append("provider_uuids")
