"""The 22 conductor calls nova-compute makes to boot an instance (libvirt, one port) and the 12
it makes to delete it, in order, with the object changes nova's code makes at each step
(nova-traffic.md §1.c and §1.d).

Runs in nova 34.0.0's virtualenv (never imported by aioconductor itself): the replay test
(tests/compat/test_replay.py) runs it against aioconductor and compares with nova's own code,
and the benchmark (bench/recorder.py) records the wire requests of its boot as the boot-storm
workload. Host and node names are distinctive so the benchmark can substitute them safely.
"""

import datetime

U = "7e111111-1111-4111-8111-111111111111"
NODE = "7e222222-2222-4222-8222-222222222222"
PORT = "7e333333-3333-4333-8333-333333333333"
IMAGE = "7e444444-4444-4444-8444-444444444444"
HOST = "tmpl-host-0000"
NODENAME = "tmpl-node-0000"
BOOT_REQ = "req-7e555555-5555-4555-8555-555555555555"
DELETE_REQ = "req-7e666666-6666-4666-8666-666666666666"
STAMP = datetime.datetime(2026, 1, 2, 3, 4, 5)
ATTRS = ["metadata", "system_metadata", "info_cache", "security_groups", "flavor",
         "pci_requests", "numa_topology", "device_metadata", "vcpu_model", "trusted_certs",
         "resources", "migration_context", "keypairs", "tags"]  # fmt: skip


def _ctx(request_id):
    from nova import context

    return context.RequestContext(user_id="u1", project_id="p1", is_admin=True,
                                  request_id=request_id, timestamp=STAMP)  # fmt: skip


def seed(ctx, objects):
    from nova.network import model as network_model

    objects.Service(
        ctx,
        host=HOST,
        binary="nova-compute",
        topic="compute",
        uuid="7e888888-8888-4888-8888-888888888888",
    ).create()
    objects.ComputeNode(
        ctx, uuid=NODE, host=HOST, hypervisor_hostname=NODENAME, vcpus=8, memory_mb=16384,
        local_gb=100, vcpus_used=0, memory_mb_used=512, local_gb_used=0,
        hypervisor_type="QEMU", hypervisor_version=8002000, cpu_info="{}",
        free_ram_mb=15872, free_disk_gb=100, running_vms=0, current_workload=0,
        disk_available_least=90, host_ip="192.168.0.11", numa_topology=None,
        supported_hv_specs=[objects.HVSpec(arch="x86_64", hv_type="kvm", vm_mode="hvm")],
        stats={"num_instances": "0"}, pci_device_pools=objects.PciDevicePoolList(objects=[]),
        cpu_allocation_ratio=16.0, ram_allocation_ratio=1.5, disk_allocation_ratio=1.0,
    ).create()  # fmt: skip
    flavor = objects.Flavor(id=1, flavorid="f1", name="m1.small", memory_mb=2048, vcpus=1,
                            root_gb=20, ephemeral_gb=0, swap=0, rxtx_factor=1.0,
                            vcpu_weight=None, disabled=False, is_public=True, extra_specs={},
                            description=None)  # fmt: skip
    inst = objects.Instance(ctx, uuid=U, user_id="u1", project_id="p1", vm_state="building",
                            task_state="scheduling", power_state=0, memory_mb=2048, vcpus=1,
                            root_gb=20, display_name="vm1", image_ref=IMAGE, flavor=flavor,
                            old_flavor=None, new_flavor=None, metadata={},
                            system_metadata={"image_min_ram": "0", "image_disk_format": "qcow2"},
                            availability_zone="nova")  # fmt: skip
    inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([]))
    inst.pci_requests = objects.InstancePCIRequests(requests=[])
    inst.create()
    objects.BlockDeviceMapping(ctx, instance_uuid=U, uuid="7e777777-7777-4777-8777-777777777777",
                               source_type="image", destination_type="local", boot_index=0,
                               image_id=IMAGE, delete_on_termination=True,
                               device_type="disk").create()  # fmt: skip
    objects.InstanceAction.action_start(_ctx(BOOT_REQ), U, "create")
    objects.InstanceAction.action_start(_ctx(DELETE_REQ), U, "delete")


def run(ctx, objects, step):
    from nova.network import model as network_model
    from oslo_utils import timeutils

    boot = _ctx(BOOT_REQ)
    inst = objects.Instance.get_by_uuid(boot, U, expected_attrs=ATTRS)
    node = objects.ComputeNode.get_by_host_and_nodename(boot, HOST, NODENAME)
    event = objects.InstanceActionEvent
    bdms = objects.BlockDeviceMappingList

    def save(target, **kwargs):
        def do():
            target.save(**kwargs)
            return target

        return do

    def changed(target, saver, **fields):
        def do():
            for name, value in fields.items():
                setattr(target, name, value)
            return saver()

        return do

    # --- boot: build_and_run_instance ---
    step(
        "1 event_start",
        lambda: event.event_start(
            boot, U, "compute__do_build_and_run_instance", want_result=False, host=HOST
        ),
    )
    step(
        "2 building",
        changed(
            inst,
            save(inst, expected_task_state=["scheduling", None]),
            vm_state="building",
            task_state=None,
        ),
    )
    step(
        "3 claim",
        changed(
            inst,
            save(inst),
            host=HOST,
            node=NODENAME,
            compute_id=node.id,
            launched_on=HOST,
            numa_topology=None,
        ),
    )
    step("4 bdms for claim", lambda: bdms.get_by_instance_uuid(boot, U))
    step("5 service", lambda: objects.Service.get_by_compute_host(boot, HOST))
    step(
        "6 node usage",
        changed(
            node,
            save(node),
            memory_mb_used=2560,
            free_ram_mb=13824,
            vcpus_used=1,
            local_gb_used=20,
            running_vms=1,
            stats={"num_instances": "1", "num_vm_building": "1"},
        ),
    )
    step(
        "7 networking",
        changed(inst, save(inst, expected_task_state=[None]), task_state="networking"),
    )
    root = bdms.get_by_instance_uuid(boot, U)[0]
    step("8 root device name", changed(root, save(root), device_name="/dev/vda"))
    vif = objects.VirtualInterface(boot, instance_uuid=U, uuid=PORT, address="fa:16:3e:7e:00:01")
    step("9 vif create", changed(vif, lambda: (vif.create(), vif)[1]))
    step("10 info cache refresh", lambda: (inst.info_cache.refresh(), inst.info_cache)[1])
    nw = network_model.NetworkInfo(
        [
            network_model.VIF(
                id=PORT,
                address="fa:16:3e:7e:00:01",
                network=network_model.Network(id="net1", bridge="br-int", subnets=[]),
            )
        ]
    )
    step("11 info cache save", changed(inst.info_cache, save(inst.info_cache), network_info=nw))
    step("12 disk bus", changed(root, save(root), disk_bus="virtio"))
    step(
        "13 block device mapping",
        changed(
            inst, save(inst, expected_task_state="networking"), task_state="block_device_mapping"
        ),
    )

    def spawning():
        inst.task_state = "spawning"
        inst.system_metadata["network_allocated"] = "True"
        inst.vcpu_model = objects.VirtCPUModel(
            arch="x86_64",
            vendor="Intel",
            model="Haswell",
            mode="host-model",
            match="exact",
            topology=objects.VirtCPUTopology(sockets=1, cores=1, threads=1),
            features=[],
        )
        inst.save(expected_task_state="block_device_mapping")
        return inst

    step("14 spawning", spawning)
    step("15 pci devices", lambda: objects.PciDeviceList.get_by_instance_uuid(boot, U))
    step("16 vifs", lambda: objects.VirtualInterfaceList.get_by_instance_uuid(boot, U))
    step("17 bdms for device metadata", lambda: bdms.get_by_instance_uuid(boot, U))
    step("18 shares", lambda: objects.ShareMappingList.get_by_instance_uuid(boot, U))
    step("19 bdms for bus defaults", lambda: bdms.get_by_instance_uuid(boot, U))

    def libvirt_details():
        for key in (
            "hw_disk_bus",
            "hw_cdrom_bus",
            "hw_input_bus",
            "hw_pointer_model",
            "hw_video_model",
            "hw_vif_model",
            "hw_machine_type",
        ):
            inst.system_metadata[f"image_{key}"] = "virtio"
        inst.device_metadata = objects.InstanceDeviceMetadata(devices=[])
        inst.save()
        return inst

    step("20 libvirt details", libvirt_details)
    step(
        "21 active",
        changed(
            inst,
            save(inst, expected_task_state="spawning"),
            vm_state="active",
            task_state=None,
            power_state=1,
            launched_at=timeutils.utcnow(),
        ),
    )
    step(
        "22 event finish",
        lambda: event.event_finish_with_failure(
            boot,
            U,
            "compute__do_build_and_run_instance",
            exc_val=None,
            exc_tb=None,
            want_result=False,
        ),
    )

    # --- delete: terminate_instance ---
    delete = _ctx(DELETE_REQ)
    inst = objects.Instance.get_by_uuid(delete, U, expected_attrs=ATTRS)
    step(
        "1 event_start",
        lambda: event.event_start(
            delete, U, "compute_terminate_instance", want_result=False, host=HOST
        ),
    )
    step("2 shares", lambda: objects.ShareMappingList.get_by_instance_uuid(delete, U))
    step("3 resources", lambda: objects.ResourceList.get_by_instance_uuid(delete, U))
    step("4 cleaned", changed(inst, save(inst), cleaned=True))
    step("5 vifs delete", lambda: objects.VirtualInterface.delete_by_instance_uuid(delete, U))
    step(
        "6 info cache empty",
        changed(inst.info_cache, save(inst.info_cache), network_info=network_model.NetworkInfo([])),
    )
    step(
        "7 deleted",
        changed(
            inst,
            save(inst),
            vm_state="deleted",
            task_state=None,
            power_state=0,
            terminated_at=timeutils.utcnow(),
        ),
    )
    step("8 service", lambda: objects.Service.get_by_compute_host(delete, HOST))
    step(
        "9 node usage",
        changed(
            node,
            save(node),
            memory_mb_used=512,
            free_ram_mb=15872,
            vcpus_used=0,
            local_gb_used=0,
            running_vms=0,
            stats={"num_instances": "0"},
        ),
    )
    step(
        "10 console tokens",
        lambda: objects.ConsoleAuthToken.clean_console_auths_for_instance(delete, U),
    )
    step("11 destroy", lambda: (inst.destroy(), inst)[1])
    step(
        "12 event finish",
        lambda: event.event_finish_with_failure(
            delete, U, "compute_terminate_instance", exc_val=None, exc_tb=None, want_result=False
        ),
    )
