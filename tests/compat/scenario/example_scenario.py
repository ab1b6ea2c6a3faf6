"""Scenario for the harness's own test: an InstanceList read that aioconductor serves."""

U1 = "11111111-aaaa-4111-8111-111111111111"


def seed(ctx, objects):
    inst = objects.Instance(
        ctx,
        uuid=U1,
        user_id="u1",
        project_id="p1",
        host="h1",
        node="n1",
        compute_id=1,
        vm_state="active",
        power_state=1,
        memory_mb=512,
        vcpus=1,
    )
    inst.create()


def run(ctx, objects, step):
    step("get_by_host", lambda: objects.InstanceList.get_by_host(ctx, "h1", expected_attrs=[]))
    step("get_by_uuid", lambda: objects.Instance.get_by_uuid(ctx, U1, expected_attrs=[]))
    step("missing", lambda: objects.Instance.get_by_uuid(ctx, U1.replace("1", "9")))
