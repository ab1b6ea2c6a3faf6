"""BlockDeviceMappingList reads and BlockDeviceMapping.save as a boot makes them
(runs in nova's virtualenv)."""

U1 = "b1111111-1111-4111-8111-111111111111"
U2 = "b2222222-2222-4222-8222-222222222222"
IMAGE = "c1111111-1111-4111-8111-111111111111"
VOLUME = "d1111111-1111-4111-8111-111111111111"


def seed(ctx, objects):
    for uuid in (U1, U2):
        objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1", host="h1", node="n1",
                         compute_id=1, vm_state="building", power_state=0, memory_mb=512,
                         vcpus=1).create()  # fmt: skip
    specs = [
        (
            U1,
            "e1111111-1111-4111-8111-111111111111",
            {
                "source_type": "image",
                "destination_type": "local",
                "boot_index": 0,
                "image_id": IMAGE,
                "delete_on_termination": True,
                "device_type": "disk",
            },
        ),
        (
            U1,
            "e2222222-2222-4222-8222-222222222222",
            {
                "source_type": "volume",
                "destination_type": "volume",
                "boot_index": None,
                "volume_id": VOLUME,
                "volume_size": 1,
                "device_name": "/dev/vdb",
                "tag": "data",
            },
        ),
        (
            U2,
            "e3333333-3333-4333-8333-333333333333",
            {
                "source_type": "blank",
                "destination_type": "local",
                "boot_index": -1,
                "guest_format": "swap",
                "volume_size": 1,
            },
        ),
    ]
    for instance_uuid, uuid, spec in specs:
        objects.BlockDeviceMapping(ctx, instance_uuid=instance_uuid, uuid=uuid, **spec).create()


def run(ctx, objects, step):
    bdms = objects.BlockDeviceMappingList
    step("by instance", lambda: bdms.get_by_instance_uuid(ctx, U1))
    step("by missing instance", lambda: bdms.get_by_instance_uuid(ctx, U1.replace("1", "9")))
    step("by instances", lambda: bdms.get_by_instance_uuids(ctx, [U1, U2]))
    step("by no instances", lambda: bdms.get_by_instance_uuids(ctx, []))

    root, volume = bdms.get_by_instance_uuid(ctx, U1)

    def name_root():  # _default_block_device_names
        root.device_name = "/dev/vda"
        root.disk_bus = "virtio"
        root.save()
        return root

    def attach():  # virt/block_device.py: the attachment's connection_info
        volume.connection_info = '{"driver_volume_type": "iscsi", "data": {"target_lun": 1}}'
        volume.attachment_id = "f1111111-1111-4111-8111-111111111111"
        volume.save()
        return volume

    def unchanged():
        volume.save()
        return volume

    def gone():
        ghost = objects.BlockDeviceMapping(ctx, id=9999, instance_uuid=U1)
        ghost.device_name = "/dev/vdz"
        ghost.save()
        return ghost

    def instance_changed():
        volume.instance = objects.Instance(ctx, uuid=U1)
        volume.save()

    step("save root name", name_root)
    step("save attachment", attach)
    step("save unchanged", unchanged)
    step("save missing", gone)
    step("save instance changed", instance_changed)
    step("after saves", lambda: bdms.get_by_instance_uuid(ctx, U1))
