"""InstanceGroup as nova-compute reads it on a build in a server group (runs in nova's
virtualenv): get_by_uuid / get_by_name (get_by_hint), get_by_instance_uuid, get_hosts."""

G1 = "a1111111-1111-4111-8111-111111111111"  # anti-affinity, project p1, name "web"
G2 = "a2222222-2222-4222-8222-222222222222"  # affinity, project p1, name "web" too
G3 = "a3333333-3333-4333-8333-333333333333"  # anti-affinity with a rule, project p2
G4 = "a4444444-4444-4444-8444-444444444444"  # no policy at all
M = [f"b{n}111111-1111-4111-8111-111111111111" for n in range(8)]


def seed(ctx, objects):
    specs = [  # host, vm_state, deleted, project
        ("h1", "active", False, "p1"),
        ("h2", "building", False, "p1"),
        ("h1", "deleted", True, "p1"),
        ("h3", "soft-delete", False, "p1"),
        (None, "building", False, "p1"),
        ("h4", "active", False, "p2"),
        ("h5", "active", False, "p2"),
    ]
    for uuid, (host, vm_state, deleted, project) in zip(M, specs, strict=False):
        inst = objects.Instance(ctx, uuid=uuid, user_id="u1", project_id=project, host=host,
                                node=host and "n1", compute_id=host and 1, vm_state=vm_state,
                                power_state=1, memory_mb=512, vcpus=1)  # fmt: skip
        inst.create()
        if deleted:
            inst.destroy()

    def group(uuid, project, name, policy, members, **rules):
        extra = {"rules": rules} if rules else {}  # as nova-api passes them
        objects.InstanceGroup(ctx, uuid=uuid, project_id=project, user_id="u1", name=name,
                              policy=policy, members=members, **extra).create()  # fmt: skip

    # M[7] has no instance row; M[5] (project p2) is in a p1 group
    group(G1, "p1", "web", "anti-affinity", [M[0], M[1], M[2], M[3], M[4], M[5], M[7]])
    group(G2, "p1", "web", "affinity", [M[6]])
    group(G3, "p2", "db", "anti-affinity", [M[6]], max_server_per_host=2)
    group(G4, "p1", None, None, [])


def run(ctx, objects, step):
    from nova import context as nova_context

    group = objects.InstanceGroup
    step("by uuid", lambda: group.get_by_uuid(ctx, G1))
    step("by uuid, a rule", lambda: group.get_by_uuid(ctx, G3))
    step("by uuid, no policy", lambda: group.get_by_uuid(ctx, G4))
    step("by uuid, upper case", lambda: group.get_by_uuid(ctx, G2.upper()))
    step("unknown uuid", lambda: group.get_by_uuid(ctx, M[0]))
    step("by name, two of them", lambda: group.get_by_name(ctx, "web"))
    step("unknown name", lambda: group.get_by_name(ctx, "nope"))
    step("hint, a uuid", lambda: group.get_by_hint(ctx, G3))
    step("hint, a name", lambda: group.get_by_hint(ctx, "db"))
    step("by instance", lambda: group.get_by_instance_uuid(ctx, M[0]))
    step("by instance, two groups", lambda: group.get_by_instance_uuid(ctx, M[6]))
    step("by instance, no group", lambda: group.get_by_instance_uuid(ctx, G1))
    # nova-compute calls these with the user's context: the lookups are project-scoped
    user = nova_context.RequestContext(user_id="u1", project_id="p1")
    step("user: own group", lambda: group.get_by_uuid(user, G1))
    step("user: other project's group", lambda: group.get_by_uuid(user, G3))
    step("user: by name", lambda: group.get_by_name(user, "db"))
    other = nova_context.RequestContext(user_id="u1", project_id="p2")
    step("user: member of another project's group", lambda: group.get_by_instance_uuid(other, M[0]))

    def hosts(context, uuid, **kwargs):
        return sorted(group.get_by_uuid(context, uuid).get_hosts(**kwargs))  # a set in nova

    step("hosts", lambda: hosts(ctx, G1))
    step("hosts, one excluded", lambda: hosts(ctx, G1, exclude=[M[0]]))
    step("hosts, no members", lambda: hosts(ctx, G4))
    step("hosts, the user's projects only", lambda: hosts(user, G1))
    step("hosts, affinity", lambda: hosts(ctx, G2, exclude=[M[0]]))
