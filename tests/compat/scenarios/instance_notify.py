"""Instance.save calls that notify (or not) under notify_on_state_change, through a boot,
a rename, a power-off, a save with nothing changed and a delete (runs in nova's virtualenv).

The first instance is saved with an admin context (no user, no token: no request_id in the
versioned payload, the image id as the legacy image URL); the second with a user's context
and token, as nova-compute saves during a boot (request_id and initiator set, the image URL
from the caller's service catalog).
"""

U1 = "6a111111-1111-4111-8111-111111111111"
U2 = "6a222222-2222-4222-8222-222222222222"
IMAGE = "c1111111-1111-4111-8111-111111111111"
ATTRS = ["metadata", "system_metadata", "info_cache", "security_groups", "flavor",
         "pci_requests", "numa_topology", "tags", "device_metadata", "vcpu_model",
         "trusted_certs", "resources", "migration_context", "keypairs"]  # fmt: skip


def seed(ctx, objects):
    from nova.network import model as network_model

    flavor = objects.Flavor(id=1, flavorid="f1", name="m1.small", memory_mb=2048, vcpus=1,
                            root_gb=20, ephemeral_gb=1, swap=0, rxtx_factor=1.0,
                            vcpu_weight=None, disabled=False, is_public=True,
                            extra_specs={"hw:cpu_policy": "shared"},
                            description="small")  # fmt: skip
    vif = network_model.VIF(
        id="5b111111-1111-4111-8111-111111111111", address="fa:16:3e:00:00:01",
        devname="tap5b111111-11", meta={"mtu": 1450},
        network=network_model.Network(
            id="net1", bridge="br-int", label="private",
            subnets=[network_model.Subnet(
                cidr="10.0.0.0/24", version=4,
                ips=[network_model.FixedIP(address="10.0.0.5", version=4)])]))  # fmt: skip
    for uuid in (U1, U2):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id="p1",
                                vm_state="building", task_state="scheduling", power_state=0,
                                memory_mb=2048, vcpus=1, root_gb=20, ephemeral_gb=1,
                                display_name="vm", hostname="vm", image_ref=IMAGE,
                                availability_zone="az1", key_name="k1", locked=False,
                                os_type="linux", architecture="x86_64",
                                instance_type_id=1, reservation_id="r-1",
                                flavor=flavor, old_flavor=None, new_flavor=None,
                                metadata={"a": "1"},
                                system_metadata={"image_min_ram": "0", "image_os": "cirros",
                                                 "owner": "x"})  # fmt: skip
        inst.info_cache = objects.InstanceInfoCache(network_info=network_model.NetworkInfo([vif]))
        inst.create()
        objects.Tag(ctx, resource_id=uuid, tag="blue").create()
        objects.ShareMapping(
            ctx, uuid=f"9d{uuid[2:]}", instance_uuid=uuid,
            share_id="9e111111-1111-4111-8111-111111111111", status="active", tag="shared",
            export_location="10.0.0.9:/export", share_proto="NFS").create()  # fmt: skip
        # a volume (in the payload with bdms_in_notifications) and the image disk (never)
        for n, (source, volume, boot) in enumerate(
            (("image", None, 0), ("volume", f"7b{uuid[2:]}", None))
        ):
            objects.BlockDeviceMapping(
                ctx, instance_uuid=uuid, uuid=f"8c{uuid[2:-1]}{n}", source_type=source,
                destination_type="local" if volume is None else "volume", volume_id=volume,
                image_id=IMAGE if volume is None else None, boot_index=boot,
                device_name=f"/dev/vd{'ab'[n]}", delete_on_termination=volume is None,
                tag="data" if volume else None).create()  # fmt: skip


# the caller's catalog, as nova-api passes it on (keystonemiddleware's v2 form)
CATALOG = [{"type": "image", "name": "glance", "endpoints": [
    {"region": "RegionOne", "publicURL": "http://glance.pub:9292/v2",
     "internalURL": "http://glance.int:9292/v2.1"}]}]  # fmt: skip


def _user_context():
    from nova import context

    return context.RequestContext(
        user_id="u1", project_id="p1", roles=["member"], is_admin=False,
        request_id="req-6a6a6a6a-1111-4111-8111-111111111111", auth_token="user-token",
        user_name="alice", project_name="demo", service_catalog=CATALOG)  # fmt: skip


def run(ctx, objects, step):
    from oslo_utils import timeutils

    for uuid, context in ((U1, ctx), (U2, _user_context())):
        inst = objects.Instance.get_by_uuid(context, uuid, expected_attrs=ATTRS)
        lean = objects.Instance.get_by_uuid(context, uuid)  # no joined fields: lazy loads

        def save(target=inst, **kwargs):
            def do():
                target.save(**kwargs)
                return target.vm_state, target.task_state

            return do

        inst.vm_state, inst.task_state = "building", None
        step(f"{uuid} task state to None", save(expected_task_state=["scheduling"]))
        inst.task_state = "spawning"
        step(f"{uuid} task state only", save())
        inst.vm_state, inst.task_state = "active", None
        inst.launched_at = timeutils.utcnow()
        inst.power_state = 1
        step(f"{uuid} vm state", save())
        inst.display_name = "renamed"
        step(f"{uuid} display name only", save())
        inst.display_name = None
        step(f"{uuid} display name cleared", save())
        inst.display_name = "named again"
        step(f"{uuid} display name from None", save())
        inst.progress = 10
        step(f"{uuid} another column", save())
        step(f"{uuid} nothing changed", save())
        lean.refresh()
        lean.task_state = "powering-off"
        step(f"{uuid} lean object", save(lean))
        inst.refresh()
        inst.vm_state, inst.task_state = "deleted", None
        inst.terminated_at = timeutils.utcnow()
        step(f"{uuid} to deleted", save())
        step(f"{uuid} destroy", lambda i=inst: (i.destroy(), None)[1])
        inst.task_state = "deleting"
        step(f"{uuid} saved after destroy", save())
