"""Instance.save and InstanceInfoCache.save through a boot's state changes, conflicts and
metadata rewrites (runs in nova's virtualenv)."""

U1 = "5a111111-1111-4111-8111-111111111111"
U2 = "5a222222-2222-4222-8222-222222222222"
U3 = "5a333333-3333-4333-8333-333333333333"
MISSING = "5a999999-9999-4999-8999-999999999999"
ATTRS = ["metadata", "system_metadata", "info_cache", "security_groups", "flavor",
         "pci_requests", "numa_topology", "tags", "device_metadata", "vcpu_model",
         "trusted_certs", "resources", "migration_context", "keypairs"]  # fmt: skip


def seed(ctx, objects):
    from nova.network import model as network_model

    flavor = objects.Flavor(id=1, flavorid="f1", name="m1.small", memory_mb=2048, vcpus=1,
                            root_gb=20, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                            vcpu_weight=None, disabled=False, is_public=True,
                            extra_specs={"hw:cpu_policy": "shared"},
                            description="small")  # fmt: skip
    for uuid in (U1, U2, U3):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1",
                                vm_state="building", task_state="scheduling", power_state=0,
                                memory_mb=2048, vcpus=1, root_gb=20, display_name="vm",
                                image_ref="c1111111-1111-4111-8111-111111111111",
                                flavor=flavor, old_flavor=None, new_flavor=None,
                                metadata={"a": "1", "keep": "k"},
                                system_metadata={"image_min_ram": "0", "owner": "x"})  # fmt: skip
        inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([]))
        inst.pci_requests = objects.InstancePCIRequests(requests=[])
        inst.create()


def run(ctx, objects, step):
    from nova.network import model as network_model
    from oslo_utils import timeutils

    inst = objects.Instance.get_by_uuid(ctx, U1, expected_attrs=ATTRS)

    def save(**kwargs):
        def do():
            inst.save(**kwargs)
            return inst

        return do

    inst.vm_state = "building"
    inst.task_state = None
    step("building", save(expected_task_state=["scheduling", None]))
    inst.host, inst.node, inst.compute_id, inst.launched_on = "h1", "n1", 1, "h1"
    inst.numa_topology = None
    step("claim", save())
    inst.task_state = "networking"
    step("networking", save(expected_task_state=[None]))
    vif = network_model.VIF(id="5b111111-1111-4111-8111-111111111111",
                            address="fa:16:3e:00:00:01", network=network_model.Network(
                                id="net1", bridge="br-int", subnets=[]))  # fmt: skip

    def cache_save():
        inst.info_cache.network_info = network_model.NetworkInfo([vif])
        inst.info_cache.save()
        return inst.info_cache

    step("info cache save", cache_save)
    inst.task_state = "block_device_mapping"
    step("bdm", save(expected_task_state="networking"))
    inst.task_state = "spawning"
    inst.system_metadata["network_allocated"] = "True"
    inst.vcpu_model = objects.VirtCPUModel(arch="x86_64", vendor="Intel", model="Haswell",
                                              mode="host-model", match="exact",
                                              topology=objects.VirtCPUTopology(
                                                  sockets=1, cores=1, threads=1),
                                              features=[])  # fmt: skip
    step("spawning", save(expected_task_state="block_device_mapping"))
    for key in ("hw_disk_bus", "hw_cdrom_bus", "hw_video_model"):
        inst.system_metadata[f"image_{key}"] = "virtio"
    inst.device_metadata = objects.InstanceDeviceMetadata(devices=[])
    step("libvirt details", save())
    # what the last two saves wrote to instance_extra with the row (later saves write it again)
    step(
        "extra values read back",
        lambda: objects.Instance.get_by_uuid(
            ctx, U1, expected_attrs=["vcpu_model", "device_metadata"]
        ),
    )
    inst.vm_state, inst.task_state, inst.power_state = "active", None, 1
    inst.launched_at = timeutils.utcnow()
    step("active", save(expected_task_state="spawning"))
    inst.task_state = "rebooting"
    step("conflict", save(expected_task_state="spawning"))
    # nova commits the extra values before it tries the instance row: they stay
    inst.device_metadata = objects.InstanceDeviceMetadata(
        devices=[objects.NetworkInterfaceMetadata(mac="fa:16:3e:00:00:01", tags=["conflict"])]
    )
    step("conflict after extra values", save(expected_task_state="spawning"))
    inst.obj_reset_changes(["device_metadata"], recursive=True)  # no later save writes it

    inst.task_state = None
    inst.metadata = {"keep": "k2", "b": "2"}
    del inst.system_metadata["owner"]
    step("metadata rewrite", save())
    step("nothing changed", save())

    def flavor_only():
        inst.flavor.extra_specs = {"hw:cpu_policy": "dedicated"}
        inst.flavor = inst.flavor
        inst.save()
        return inst

    step("flavor only", flavor_only)

    def node_only():
        inst.node = "n2"
        inst.save()

    step("node without compute_id", node_only)
    inst.node = "n1"

    other = objects.Instance.get_by_uuid(ctx, U2, expected_attrs=["info_cache"])

    def deleting():
        other.task_state = "deleting"
        other.save()
        stale = objects.Instance.get_by_uuid(ctx, U2, expected_attrs=[])
        stale.task_state = "spawning"
        stale.save(expected_task_state="scheduling")

    step("deleting conflict", deleting)

    def cleared_cache():
        other.info_cache.network_info = network_model.NetworkInfo([])
        other.info_cache.save()
        return other.info_cache

    step("info cache cleared", cleared_cache)

    def rename_unread(context, uuid, name):
        """A save on an Instance the caller never read: nova looks the row up itself."""

        def do():
            inst = objects.Instance(context, uuid=uuid, user_id=context.user_id or "u1",
                                    project_id=context.project_id or "p1")  # fmt: skip
            inst.obj_reset_changes()
            inst.display_name = name
            inst.save()

        return do

    step("missing instance", rename_unread(ctx, MISSING, "gone"))
    step("re-read", lambda: objects.Instance.get_by_uuid(ctx, U1, expected_attrs=ATTRS))

    def fresh(context=ctx):
        return objects.Instance.get_by_uuid(context, U1, expected_attrs=[])

    def vm_state_conflict():
        inst = fresh()
        inst.vm_state = "stopped"
        inst.save(expected_vm_state="building")

    step("vm_state conflict", vm_state_conflict)

    def both_hold():
        inst = fresh()
        inst.power_state = 4
        inst.save(expected_vm_state=["active", "stopped"], expected_task_state=[None])
        return inst

    step("vm_state and task_state hold", both_hold)

    def both_conflict():
        inst = fresh()
        inst.task_state = "powering-off"
        inst.save(expected_vm_state="building", expected_task_state="spawning")

    step("task_state and vm_state conflict", both_conflict)

    # a non-admin context sees and writes its own project's instances only
    from nova import context as nova_context

    owner = nova_context.RequestContext("u1", "p1", is_admin=False)
    stranger = nova_context.RequestContext("u9", "p9", is_admin=False)
    step("owner reads", lambda: fresh(owner))
    step("stranger reads", lambda: fresh(stranger))

    def owner_saves():
        inst = fresh(owner)
        inst.display_name = "renamed by its owner"
        inst.save()
        return inst

    step("owner saves", owner_saves)

    step("stranger saves", rename_unread(stranger, U1, "renamed by a stranger"))

    def racing_delete():
        """A delete commits while the save waits for the row lock: the UPDATE then finds the
        row changed after the save's snapshot was taken, and nova tries again afresh."""
        import threading
        import time

        import pymysql
        from nova import conf
        from sqlalchemy.engine import make_url

        url = make_url(conf.CONF.database.connection)
        holder = pymysql.connect(host=url.host, user=url.username, password=url.password or "",
                                 database=url.database, autocommit=False)  # fmt: skip
        cursor = holder.cursor()
        cursor.execute("SELECT id FROM instances WHERE uuid = %s FOR UPDATE", (U3,))
        racer = objects.Instance.get_by_uuid(ctx, U3, expected_attrs=[])
        racer.vm_state, racer.task_state = "building", None
        failures = []

        def save():
            try:
                racer.save(expected_task_state=["scheduling"])
            except Exception as exc:
                failures.append(exc)

        thread = threading.Thread(target=save)
        thread.start()
        for _ in range(500):  # until the save's UPDATE waits for the lock
            cursor.execute("SELECT COUNT(*) FROM information_schema.innodb_trx "
                           "WHERE trx_state = 'LOCK WAIT'")  # fmt: skip
            if cursor.fetchone()[0]:
                break
            time.sleep(0.02)
        cursor.execute("UPDATE instances SET task_state = 'deleting' WHERE uuid = %s", (U3,))
        holder.commit()
        holder.close()
        thread.join()
        if failures:
            raise failures[0]
        return racer

    step("racing delete", racing_delete)
