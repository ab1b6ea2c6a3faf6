"""The EC2 ids Instance.create loads right after the insert (objects/ec2.py EC2Ids).

nova gets or creates an `instance_id_mappings` row for the instance and an `s3_images` row
for each of image_ref, kernel_id and ramdisk_id that is set, and formats their ids as
`i-%08x`, `ami-%08x`, `aki-%08x`, `ari-%08x`. nova memoizes the lookups per process; a cold
cache (every lookup asked of the database) writes the same rows.
"""

from __future__ import annotations

from typing import Any

from aioconductor.db.engine import Database
from aioconductor.objects import primitives as p

EC2_IDS_VERSION = "1.0"
_IMAGE_KINDS = (("ami_id", "image_ref", "ami"), ("kernel_id", "kernel_id", "aki"),
                ("ramdisk_id", "ramdisk_id", "ari"))  # fmt: skip


async def ec2_ids_primitive(db: Database, instance: dict[str, Any]) -> p.Primitive:
    """EC2Ids.get_by_instance for a just-created instance (its mapping row exists).

    Each id is set with setattr on a fresh EC2Ids, so all four fields are its changes.
    """
    mapping = await db.fetch_one(
        "SELECT id FROM instance_id_mappings WHERE uuid = %s LIMIT 1", (instance["uuid"],)
    )
    assert mapping is not None  # written in the instance's own transaction
    data: dict[str, Any] = {"instance_id": f"i-{int(mapping['id']):08x}"}
    for field, source, prefix in _IMAGE_KINDS:
        image = instance.get(source)
        if field != "ami_id" and image is None:
            data[field] = None  # only image_ref is looked up when None (and gives None)
            continue
        image_id = await _s3_image_id(db, image) if image else None
        data[field] = None if image_id is None else f"{prefix}-{image_id:08x}"
    return p.make("EC2Ids", EC2_IDS_VERSION, data, set(data))


async def _s3_image_id(db: Database, image_uuid: str) -> int:
    """glance_id_to_id: the s3_images row for the image (deleted ones too), made if none."""
    found = await db.fetch_one("SELECT id FROM s3_images WHERE uuid = %s LIMIT 1", (image_uuid,))
    if found is not None:
        return int(found["id"])
    values = {"uuid": image_uuid, "created_at": p.utcnow(), "deleted": 0}
    return await db.insert_row("s3_images", values)
