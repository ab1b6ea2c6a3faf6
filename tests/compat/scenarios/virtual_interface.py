"""VirtualInterface create / list / delete as a boot and a delete make them
(runs in nova's virtualenv)."""

U1 = "f1111111-1111-4111-8111-111111111111"
PORT1 = "a9111111-1111-4111-8111-111111111111"
PORT2 = "a9222222-2222-4222-8222-222222222222"


def seed(ctx, objects):
    objects.Instance(ctx, uuid=U1, user_id="u1", project_id="p1", host="h1", node="n1",
                     compute_id=1, vm_state="building", power_state=0, memory_mb=512,
                     vcpus=1).create()  # fmt: skip


def run(ctx, objects, step):
    def create(port, address, tag=None):
        def do():
            vif = objects.VirtualInterface(ctx, instance_uuid=U1, uuid=port, address=address,
                                           tag=tag)  # fmt: skip
            vif.create()
            return vif

        return do

    step("create", create(PORT1, "fa:16:3e:00:00:01", tag="nic1"))
    step("create second", create(PORT2, "fa:16:3e:00:00:02/" + PORT2))
    step("create duplicate address", create(PORT2, "fa:16:3e:00:00:01"))
    step("list", lambda: objects.VirtualInterfaceList.get_by_instance_uuid(ctx, U1))
    step("delete", lambda: objects.VirtualInterface.delete_by_instance_uuid(ctx, U1))
    step("list after delete", lambda: objects.VirtualInterfaceList.get_by_instance_uuid(ctx, U1))
    step("delete again", lambda: objects.VirtualInterface.delete_by_instance_uuid(ctx, U1))
