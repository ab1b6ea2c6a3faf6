"""A boot's server group, as nova-conductor 34.0.0 prepares it (nova/scheduler/utils.py).

Before asking the scheduler, nova's `setup_instance_group` fills the group of the boot's
first request spec: its `hosts`, the hosts of its members gathered from every cell but cell0
(each cell's `InstanceGroup.get_hosts`, failures skipped), then the group the first instance
is a member of, read again from the API database: its policy must be one the scheduler is
configured for (`[filter_scheduler] enabled_filters` / `weight_classes`, else
UnsupportedPolicyException, which buries the boot in cell0), its members replace the
spec's, and its hosts on the conductor's own `[database]` join the ones gathered. The
scheduler filters on these and the compute receives them, in the spec and in the legacy
filter properties (`group_hosts`, `group_policies`, `group_members`: sets in nova, lists
on the wire).

nova also looks the first instance's membership up when the spec carries no group; no
member row exists then (nova-api adds one only for a group hint), so that read is skipped.
Where nova builds a set, the order it sends is its set's: hosts are sorted here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aioconductor.config.boot_options import ALL_WEIGHERS
from aioconductor.context import RequestContext
from aioconductor.errors import InstanceGroupNotFound, UnsupportedPolicyException
from aioconductor.objects import instance_group
from aioconductor.objects import primitives as p
from aioconductor.objects.catalog import NOVA_OBJECT_VERSIONS
from aioconductor.objects.primitives import Primitive

if TYPE_CHECKING:
    from aioconductor.boot.schedule_and_build import BootServices
    from aioconductor.config.boot_options import BootOptions

log = logging.getLogger(__name__)

CELL_TIMEOUT = 60.0  # nova's scatter_gather CELL_TIMEOUT
# policy -> the filter or weigher it needs, and what nova says when it is not configured
_NEEDS_FILTER = {
    "affinity": "ServerGroupAffinityFilter",
    "anti-affinity": "ServerGroupAntiAffinityFilter",
}
_NEEDS_WEIGHER = {
    "soft-affinity": "ServerGroupSoftAffinityWeigher",
    "soft-anti-affinity": "ServerGroupSoftAntiAffinityWeigher",
}
_WEIGHER_MODULE = "nova.scheduler.weights.affinity."


def _data(value: Primitive) -> dict[str, Any]:
    found = value["nova_object.data"]
    assert isinstance(found, dict)
    return found


def _set(obj: Primitive, name: str, value: Any, *, changed: bool = True) -> None:
    _data(obj)[name] = value
    if not changed:
        return
    changes = obj.setdefault("nova_object.changes", [])
    if name not in changes:
        changes.append(name)


@dataclass(frozen=True, slots=True)
class GroupDetails:
    hosts: list[str]
    policy: str
    members: list[str] | None


def unsupported(options: BootOptions, policy: str | None) -> str | None:
    """Why the scheduler cannot honour `policy` (nova's `_get_group_details` checks)."""
    if policy in _NEEDS_FILTER:
        name = _NEEDS_FILTER[policy]
        return None if name in options.enabled_filters else f"{name} not configured"
    if policy in _NEEDS_WEIGHER:
        name = _NEEDS_WEIGHER[policy]
        classes = options.weight_classes
        if ALL_WEIGHERS in classes or _WEIGHER_MODULE + name in classes:
            return None
        return f"{name} not configured"
    return None


async def setup_instance_group(
    services: BootServices, ctx: RequestContext, spec: Primitive
) -> None:
    """scheduler_utils.setup_instance_group on the spec sent to the scheduler."""
    fields = _data(spec)
    group = fields.get("instance_group")
    if not group:
        return
    group_fields = _data(group)
    if "hosts" not in group_fields:
        _set(group, "hosts", await _hosts_all_cells(services, ctx, group_fields.get("members")))
    given = group_fields.get("hosts") or None
    details = await _group_details(services, ctx, fields.get("instance_uuid"), given)
    if details is not None:
        _set(group, "hosts", details.hosts)
        _set(group, "policy", details.policy)
        _set(group, "members", details.members)
    # obj_what_changed: a field holding an object with changes is changed too
    _set(spec, "instance_group", group)


async def _hosts_all_cells(services: BootServices, ctx: RequestContext, members: Any) -> list[str]:
    """`_get_instance_group_hosts_all_cells`: a cell that fails or times out is skipped."""
    cells = await services.cells.every_cell_but_cell0(ctx, services.api, services.url_defaults)
    found = await asyncio.gather(
        *(
            asyncio.wait_for(instance_group.hosts_of(db, ctx, members), CELL_TIMEOUT)
            for db in cells
        ),
        return_exceptions=True,
    )
    hosts: list[str] = []
    for result in found:
        if isinstance(result, BaseException):
            log.warning("a cell did not answer for the server group's hosts: %r", result)
            continue
        hosts.extend(result)
    return sorted(set(hosts))


async def _group_details(
    services: BootServices, ctx: RequestContext, instance_uuid: Any, user_hosts: Any
) -> GroupDetails | None:
    """scheduler_utils._get_group_details."""
    if not instance_uuid:
        return None
    try:
        group = await instance_group.read_by_instance_uuid(services.api, ctx, str(instance_uuid))
    except InstanceGroupNotFound:
        return None
    fields = _data(group)
    policy = fields.get("policy")
    if policy not in _NEEDS_FILTER and policy not in _NEEDS_WEIGHER:
        return None
    reason = unsupported(services.settings.boot, policy)
    if reason:
        log.error(reason)
        raise UnsupportedPolicyException(reason=reason)
    own = services.cells.own  # nova's get_hosts here runs on the untargeted context
    group_hosts = await instance_group.hosts_of(own, ctx, fields["members"]) if own else []
    hosts = sorted(set(user_hosts or ()) | set(group_hosts))
    return GroupDetails(hosts=hosts, policy=str(policy), members=fields["members"])


async def load_hosts(services: BootServices, ctx: RequestContext, spec: Primitive) -> None:
    """The lazy-load of `hosts` that `to_legacy_filter_properties_dict` triggers on a spec
    setup_instance_group did not fill (a multi-create's later ones): `get_hosts` on the
    conductor's own `[database]`, the field then set but not changed."""
    group = _data(spec).get("instance_group")
    if not group or "hosts" in _data(group):
        return
    own = services.cells.own
    members = _data(group).get("members")
    hosts = await instance_group.hosts_of(own, ctx, members) if own else []
    _set(group, "hosts", hosts, changed=False)


def _unique(values: Any) -> list[Any]:
    return list(dict.fromkeys(values or ()))


def legacy_group_info(group: Primitive) -> dict[str, Any]:
    """RequestSpec._to_legacy_group_info, its sets as the lists they become on the wire."""
    fields = _data(group)
    if "hosts" not in fields:
        raise ValueError("the group's hosts are loaded first (load_hosts)")
    return {
        "group_updated": True,
        "group_hosts": _unique(fields["hosts"]),
        "group_policies": [fields.get("policy")],
        "group_members": _unique(fields.get("members")),
        "group_uuid": fields.get("uuid"),
    }


def group_from_legacy(filter_properties: dict[str, Any]) -> Any:
    """RequestSpec._populate_group_info: the group a reschedule's new spec carries."""
    given = filter_properties.get("instance_group")
    if given:
        return given
    if filter_properties.get("group_updated") is not True:
        return None
    fields: dict[str, Any] = {
        "policy": next(iter(filter_properties.get("group_policies") or [])),
        "hosts": list(filter_properties.get("group_hosts") or []),
        "members": list(filter_properties.get("group_members") or []),
    }
    changes = {"policy", "members"}  # hosts: obj_reset_changes(['hosts'])
    if filter_properties.get("group_uuid"):
        fields["uuid"] = filter_properties["group_uuid"]
        changes.add("uuid")
    return p.make("InstanceGroup", NOVA_OBJECT_VERSIONS["InstanceGroup"], fields, changes)
