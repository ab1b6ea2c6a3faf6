"""InstanceList.get_by_filters with the filters nova-compute's periodic tasks and libvirt
send (runs in nova's virtualenv)."""

UUIDS = [f"f{n}111111-1111-4111-8111-111111111111" for n in range(6)]


def seed(ctx, objects):
    from nova.network import model as network_model

    specs = [  # host, vm_state, task_state, deleted, cleaned
        ("h1", "active", None, False, False),
        ("h1", "building", None, False, False),
        ("h1", "soft-delete", None, False, False),
        ("h1", "deleted", None, True, False),
        ("h1", "deleted", None, True, True),
        ("h2", "active", "rebooting", False, False),
    ]
    for uuid, (host, vm_state, task_state, deleted, cleaned) in zip(UUIDS, specs, strict=True):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1", host=host,
                                node="n1", compute_id=1, vm_state=vm_state,
                                task_state=task_state, power_state=1, memory_mb=512, vcpus=1,
                                metadata={"m": uuid[:2]}, system_metadata={"s": "1"},
                                cleaned=cleaned)  # fmt: skip
        inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([]))
        inst.create()
        if deleted:
            inst.destroy()


def run(ctx, objects, step):
    from nova import context as nova_context

    def query(label, context, filters, **kwargs):
        step(label, lambda: objects.InstanceList.get_by_filters(context, filters, **kwargs))

    deleted_ctx = nova_context.get_admin_context(read_deleted="yes")
    pending = {"deleted": True, "soft_deleted": False, "host": "h1", "cleaned": False}
    query("pending deletes", deleted_ctx, pending, expected_attrs=["system_metadata"])
    running = {"deleted": True, "soft_deleted": False, "uuid": UUIDS}
    attrs = ["info_cache", "security_groups", "system_metadata"]
    query("running deleted", deleted_ctx, running, expected_attrs=attrs)
    query("by uuids", ctx, {"uuid": UUIDS[:3]})
    building = {"vm_state": "building", "host": "h1", "deleted": False}
    query("building on host", ctx, building, expected_attrs=[])
    rebooting = {"task_state": ["rebooting", "reboot_started"], "host": "h2"}
    query("rebooting", ctx, rebooting, expected_attrs=[])
    image_cache = {"deleted": False, "soft_deleted": True, "host": ["h1", "h2"]}
    query("image cache", ctx, image_cache, expected_attrs=[])
    soft = {"vm_state": "soft-delete", "task_state": None, "host": "h1"}
    defaults = ["metadata", "system_metadata", "info_cache", "security_groups"]
    query("soft deleted on host", ctx, soft, expected_attrs=defaults)
    query("empty uuid list", ctx, {"uuid": []})
    query("limit", ctx, {"host": "h1"}, limit=2, expected_attrs=[])
    user = nova_context.RequestContext(user_id="u1", project_id="p2")
    query("other project", user, {"host": "h1"}, expected_attrs=[])
