"""MigrationList reads of the resource tracker, start-up and the periodic cleanup
(runs in nova's virtualenv)."""

U1 = "e8111111-1111-4111-8111-111111111111"


def seed(ctx, objects):
    objects.Instance(ctx, uuid=U1, user_id="u1", project_id="p1", host="h1", node="n1",
                     compute_id=1, vm_state="active", power_state=1, memory_mb=512,
                     vcpus=1).create()  # fmt: skip
    specs = [
        ("h1", "n1", "h2", "n2", "migrating", "migration"),
        ("h2", "n2", "h1", "n1", "post-migrating", "live-migration"),
        ("h1", "n1", "h2", "n2", "confirmed", "resize"),
        ("h1", "n1", "h3", "n3", "error", "resize"),
        ("h1", "n1", "h4", "n4", "accepted", "evacuation"),
        ("h1", "n1", "h4", "n4", "done", "evacuation"),
        ("h5", "n5", "h1", "n1", "error", "migration"),
    ]
    for n, (sc, sn, dc, dn, status, kind) in enumerate(specs):
        objects.Migration(ctx, uuid=f"e899999{n}-9999-4999-8999-999999999999", source_compute=sc,
                          source_node=sn, dest_compute=dc, dest_node=dn, status=status,
                          migration_type=kind, instance_uuid=U1, old_instance_type_id=1,
                          new_instance_type_id=2 if kind == "resize" else 1, user_id="u1",
                          project_id="p1", dest_compute_id=n).create()  # fmt: skip
    import sqlalchemy
    from nova.db.main import api as db

    with db.get_context_manager(ctx).writer.using(ctx):  # soft-delete the finished evacuation
        ctx.session.execute(
            sqlalchemy.text(
                "UPDATE migrations SET deleted = id, deleted_at = NOW() WHERE status = 'done'"
            )
        )


def run(ctx, objects, step):
    from nova import context as nova_context

    def by_id(fn):
        return lambda: sorted(fn(), key=lambda m: m.id)

    mlist = objects.MigrationList
    step("rt h1/n1", by_id(lambda: mlist.get_in_progress_and_error(ctx, "h1", "n1")))
    step("rt h2/n2", by_id(lambda: mlist.get_in_progress_and_error(ctx, "h2", "n2")))
    step("rt unknown", by_id(lambda: mlist.get_in_progress_and_error(ctx, "hx", "nx")))
    # a build's anti-affinity check: migrations in error are not in progress there
    in_progress = mlist.get_in_progress_by_host_and_node
    step("in progress h1/n1", by_id(lambda: in_progress(ctx, "h1", "n1")))
    step("in progress h2/n2", by_id(lambda: in_progress(ctx, "h2", "n2")))
    evacuations = {"source_compute": "h1", "status": ["accepted", "pre-migrating", "done"],
                   "migration_type": "evacuation"}  # fmt: skip
    deleted_ctx = nova_context.get_admin_context(read_deleted="yes")
    step("evacuations", by_id(lambda: mlist.get_by_filters(deleted_ctx, evacuations)))
    cleanup = {"host": "h1", "status": "error"}
    step("cleanup errors", by_id(lambda: mlist.get_by_filters(ctx, cleanup)))
    step("by node", by_id(lambda: mlist.get_by_filters(ctx, {"node": "n2"})))
    step("by instance, hidden", by_id(lambda: mlist.get_by_filters(
        ctx, {"instance_uuid": U1, "hidden": False, "unknown_key": 1})))  # fmt: skip
    step("empty status list", by_id(lambda: mlist.get_by_filters(ctx, {"status": []})))
    step("limit 0", lambda: mlist.get_by_filters(ctx, {}, limit=0))
