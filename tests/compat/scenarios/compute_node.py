"""ComputeNode(List) as the resource tracker uses them: start-up lookups, create, the periodic
and claim-time saves (runs in nova's virtualenv)."""

NODE = "c0111111-1111-4111-8111-111111111111"
OTHER = "c0222222-2222-4222-8222-222222222222"


def _node(objects, ctx, uuid, host, nodename):
    return objects.ComputeNode(
        ctx, uuid=uuid, host=host, hypervisor_hostname=nodename, vcpus=8, memory_mb=16384,
        local_gb=100, vcpus_used=0, memory_mb_used=512, local_gb_used=0,
        hypervisor_type="QEMU", hypervisor_version=8002000, cpu_info='{"arch": "x86_64"}',
        disk_available_least=90, free_ram_mb=15872, free_disk_gb=100, current_workload=0,
        running_vms=0, host_ip="192.168.0.11", numa_topology=None,
        supported_hv_specs=[objects.HVSpec(arch="x86_64", hv_type="qemu", vm_mode="hvm"),
                            objects.HVSpec(arch="i686", hv_type="qemu", vm_mode="hvm")],
        stats={"num_instances": "0", "io_workload": "0"},
        pci_device_pools=objects.PciDevicePoolList(objects=[]),
        # 1.2 and 0.9 have no exact float32: the binary protocol must not leak its rounding
        cpu_allocation_ratio=16.0, ram_allocation_ratio=1.2, disk_allocation_ratio=0.9,
    )  # fmt: skip


def seed(ctx, objects):
    objects.Service(ctx, host="h2", binary="nova-compute", topic="compute").create()
    _node(objects, ctx, OTHER, "h2", "n2").create()


def run(ctx, objects, step):
    cn = objects.ComputeNode
    step("all by uuids (new host)", lambda: objects.ComputeNodeList.get_all_by_uuids(ctx, [NODE]))
    step("all by host (new host)", lambda: objects.ComputeNodeList.get_all_by_host(ctx, "h1"))
    step("by uuid (new host)", lambda: cn.get_by_uuid(ctx, NODE))
    node = _node(objects, ctx, NODE, "h1", "n1")

    def create():
        node.create()
        return node

    step("create", create)
    step("create again", create)
    step("by uuid", lambda: cn.get_by_uuid(ctx, NODE))
    step("by host and nodename", lambda: cn.get_by_host_and_nodename(ctx, "h1", "n1"))
    step("by host and wrong nodename", lambda: cn.get_by_host_and_nodename(ctx, "h1", "nx"))
    step("all by host", lambda: objects.ComputeNodeList.get_all_by_host(ctx, "h2"))
    step("all by uuids", lambda: objects.ComputeNodeList.get_all_by_uuids(ctx, [NODE, OTHER]))
    step("all by no uuids", lambda: objects.ComputeNodeList.get_all_by_uuids(ctx, []))

    def claim():  # rt._update after an instance claim
        node.memory_mb_used = 1024
        node.free_ram_mb = 15360
        node.vcpus_used = 1
        node.running_vms = 1
        node.stats = {"num_instances": "1", "io_workload": "1", "num_vm_building": "1"}
        node.save()
        return node

    def periodic():  # update_available_resource: nothing moved but the stamp
        node.save()
        return node

    def new_specs():
        node.supported_hv_specs = [objects.HVSpec(arch="aarch64", hv_type="qemu", vm_mode="hvm")]
        node.host_ip = "10.0.0.1"
        node.save()
        return node

    step("save claim", claim)
    step("save periodic", periodic)
    step("save specs", new_specs)
    step("re-read", lambda: cn.get_by_uuid(ctx, NODE))

    def gone():
        ghost = objects.ComputeNode(ctx, id=999)
        ghost.vcpus_used = 1
        ghost.save()

    step("save missing", gone)
