"""Share mappings, PCI devices, resources and console tokens as spawn/delete/periodic tasks
read and clean them (runs in nova's virtualenv)."""

U1 = "c7111111-1111-4111-8111-111111111111"
U2 = "c7222222-2222-4222-8222-222222222222"
RP = "c7333333-3333-4333-8333-333333333333"


def seed(ctx, objects):
    from nova.db.main import api as db

    node = db.compute_node_create(ctx, {
        "vcpus": 4, "memory_mb": 4096, "local_gb": 40, "vcpus_used": 0, "memory_mb_used": 0,
        "local_gb_used": 0, "hypervisor_type": "QEMU", "hypervisor_version": 8002000,
        "cpu_info": "{}", "host": "h1", "hypervisor_hostname": "n1",
        "uuid": "c7444444-4444-4444-8444-444444444444",
    })  # fmt: skip
    vpmem = objects.LibvirtVPMEMDevice(label="4GB", name="ns_0", devpath="/dev/dax0.0",
                                       size=4292870144, align=2097152)  # fmt: skip
    resources = objects.ResourceList(objects=[objects.Resource(
        provider_uuid=RP, resource_class="CUSTOM_PMEM_NAMESPACE_4GB", identifier="ns_0",
        metadata=vpmem)])  # fmt: skip
    for uuid, res in ((U1, resources), (U2, None)):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1", host="h1",
                                node="n1", compute_id=node["id"], vm_state="active",
                                power_state=1, memory_mb=512, vcpus=1)  # fmt: skip
        if res is not None:
            inst.resources = res
        inst.create()
    objects.ShareMapping(ctx, uuid="c7555555-5555-4555-8555-555555555555", instance_uuid=U1,
                         share_id="c7666666-6666-4666-8666-666666666666", status="active",
                         tag="share1", export_location="10.0.0.1:/export",
                         share_proto="NFS").create()  # fmt: skip
    for n, (status, instance) in enumerate(
        (("available", None), ("allocated", U1), ("claimed", U1))
    ):
        db.pci_device_update(ctx, node["id"], f"0000:00:0{n}.0", {
            "uuid": f"c788888{n}-8888-4888-8888-888888888888", "vendor_id": "8086",
            "product_id": "1520", "dev_type": "type-VF", "status": status, "label": "l",
            "dev_id": f"pci_0000_00_0{n}_0", "instance_uuid": instance,
            "extra_info": '{"capabilities": "{}"}', "numa_node": 0,
            "parent_addr": "0000:00:09.0", "compute_node_id": node["id"],
            "address": f"0000:00:0{n}.0",
        })  # fmt: skip
    for instance, ttl in ((U1, 600), (U1, -600), (U2, -600), (U2, 600)):
        token = objects.ConsoleAuthToken(ctx, console_type="novnc", host="h1", port=5900,
                                         instance_uuid=instance,
                                         access_url_base="http://x/vnc_auth.html")  # fmt: skip
        token.authorize(ttl)


def run(ctx, objects, step):
    step("shares", lambda: objects.ShareMappingList.get_by_instance_uuid(ctx, U1))
    step("no shares", lambda: objects.ShareMappingList.get_by_instance_uuid(ctx, U2))
    step("pci by node", lambda: objects.PciDeviceList.get_by_compute_node(ctx, 1))
    step("pci by missing node", lambda: objects.PciDeviceList.get_by_compute_node(ctx, 99))
    step("pci by instance", lambda: objects.PciDeviceList.get_by_instance_uuid(ctx, U1))
    step("resources", lambda: objects.ResourceList.get_by_instance_uuid(ctx, U1))
    step("no resources", lambda: objects.ResourceList.get_by_instance_uuid(ctx, U2))
    step("clean expired", lambda: objects.ConsoleAuthToken.clean_expired_console_auths(ctx))
    step("clean instance", lambda: objects.ConsoleAuthToken.clean_console_auths_for_instance(
        ctx, U1))  # fmt: skip
