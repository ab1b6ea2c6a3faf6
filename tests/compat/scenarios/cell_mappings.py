"""Cell, host and instance mappings on the API database (runs in nova's virtualenv)."""

CELL1 = "c1111111-1111-4111-8111-111111111111"
CELL2 = "c2222222-2222-4222-8222-222222222222"
CELL3 = "c3333333-3333-4333-8333-333333333333"
U1 = "e1111111-1111-4111-8111-111111111111"
U2 = "e2222222-2222-4222-8222-222222222222"
U3 = "e3333333-3333-4333-8333-333333333333"


def seed(ctx, objects):
    def cell(**fields):
        mapping = objects.CellMapping(ctx, **fields)
        mapping.create()
        return mapping

    cell(uuid=objects.CellMapping.CELL0_UUID, name="cell0", transport_url="none:///",
         database_connection="{scheme}://{username}@{hostname}/cell0_db?{query}")  # fmt: skip
    cell1 = cell(
        uuid=CELL1,
        name="cell1",
        transport_url="{scheme}://{username}:{password}@{hostname}:{port}/{path}",
        database_connection="mysql+pymysql://u:p@db1/c1",
    )
    cell(uuid=CELL2, name=None, transport_url="rabbit://x:y@mq2:5672/{nope}",
         database_connection="mysql+pymysql://u:p@db2/c2", disabled=True)  # fmt: skip
    cell(uuid=CELL3, name="cell3", transport_url="rabbit://mq3/",
         database_connection="mysql+pymysql://u:p@db3/c3")  # fmt: skip
    objects.HostMapping(ctx, host="h1", cell_mapping=cell1).create()
    objects.InstanceMapping(ctx, instance_uuid=U1, cell_mapping=cell1, project_id="p1",
                            user_id="u1").create()  # fmt: skip
    objects.InstanceMapping(ctx, instance_uuid=U2, project_id="p1", user_id="u1").create()
    objects.InstanceMapping(ctx, instance_uuid=U3, cell_mapping=cell1, project_id="p2").create()
    import sqlalchemy
    from nova.db.api import api as api_db

    with api_db.context_manager.writer.using(ctx) as session:  # rows nova's objects never write
        session.execute(sqlalchemy.text(f"UPDATE cell_mappings SET disabled = NULL "
                                        f"WHERE uuid = '{CELL3}'"))  # fmt: skip
        session.execute(sqlalchemy.text(f"UPDATE instance_mappings SET queued_for_delete = "
                                        f"NULL WHERE instance_uuid = '{U3}'"))  # fmt: skip


def run(ctx, objects, step):
    cells = objects.CellMappingList
    step("all cells", lambda: cells.get_all(ctx))
    step("disabled cells", lambda: cells.get_by_disabled(ctx, True))
    step("enabled cells", lambda: cells.get_by_disabled(ctx, disabled=False))
    step("cell1", lambda: objects.CellMapping.get_by_uuid(ctx, CELL1))
    step("cell0", lambda: objects.CellMapping.get_by_uuid(ctx, objects.CellMapping.CELL0_UUID))
    step("unknown cell", lambda: objects.CellMapping.get_by_uuid(ctx, U1))
    step("host h1", lambda: objects.HostMapping.get_by_host(ctx, "h1"))
    step("host H1 (collation)", lambda: objects.HostMapping.get_by_host(ctx, "H1"))
    step("unmapped host", lambda: objects.HostMapping.get_by_host(ctx, "h9"))
    by_uuid = objects.InstanceMapping.get_by_instance_uuid
    step("instance in cell1", lambda: by_uuid(ctx, U1))
    step("instance not scheduled", lambda: by_uuid(ctx, U2))
    step("instance without user", lambda: by_uuid(ctx, U3))
    step("unmapped instance", lambda: by_uuid(ctx, CELL1))
