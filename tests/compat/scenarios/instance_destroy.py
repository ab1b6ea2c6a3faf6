"""Instance.destroy at the end of a delete, with every kind of child row, and its refusals
(runs in nova's virtualenv)."""

U1 = "de111111-1111-4111-8111-111111111111"
U2 = "de222222-2222-4222-8222-222222222222"


def seed(ctx, objects):
    from nova.network import model as network_model

    for uuid, host in ((U1, "h1"), (U2, "h1")):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1", host=host,
                                node="n1", compute_id=1, vm_state="active", power_state=1,
                                memory_mb=512, vcpus=1, metadata={"a": "1"},
                                system_metadata={"owner": "x"})  # fmt: skip
        inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([]))
        inst.pci_requests = objects.InstancePCIRequests(requests=[])
        inst.create()
        objects.Tag(ctx, resource_id=uuid, tag="t1").create()
        objects.InstanceFault(ctx, instance_uuid=uuid, code=500, message="m", details="d",
                              host=host).create()  # fmt: skip
        objects.BlockDeviceMapping(ctx, instance_uuid=uuid, uuid=uuid.replace("de", "bd", 1),
                                   source_type="image", destination_type="local",
                                   boot_index=0).create()  # fmt: skip
        objects.VirtualInterface(ctx, instance_uuid=uuid, uuid=uuid.replace("de", "fe", 1),
                                 address=f"fa:16:3e:00:00:{uuid[2]}").create()  # fmt: skip
        objects.Migration(ctx, uuid=uuid.replace("de", "a0", 1), instance_uuid=uuid,
                          source_compute=host, dest_compute="h2", status="error",
                          migration_type="migration", old_instance_type_id=1,
                          new_instance_type_id=1).create()  # fmt: skip
        token = objects.ConsoleAuthToken(
            ctx,
            console_type="novnc",
            host=host,
            port=5900,
            instance_uuid=uuid,
            access_url_base="http://x/",
        )
        token.authorize(600)


def run(ctx, objects, step):
    first = objects.Instance.get_by_uuid(ctx, U1, expected_attrs=["info_cache", "metadata"])

    def destroy(inst):
        def do():
            inst.destroy()
            return inst

        return do

    step("destroy", destroy(first))
    ghost = objects.Instance(ctx, id=999, uuid=U1.replace("de1", "dea"), host="h1")
    step("missing instance", destroy(ghost))
    second = objects.Instance.get_by_uuid(ctx, U2, expected_attrs=[])
    second.host = None
    second.obj_reset_changes(["host"])
    step("host changed", destroy(second))
    unsaved = objects.Instance(ctx, uuid=U2)
    step("never created", destroy(unsaved))
