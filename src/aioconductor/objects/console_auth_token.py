"""ConsoleAuthToken cleaners: every compute deletes expired tokens every 5 minutes (over the
whole cell table, as nova does), and an instance's tokens when it is deleted."""

from __future__ import annotations

import time

from aioconductor.objects.registry import ClassCall, remotable_classmethod


@remotable_classmethod("ConsoleAuthToken", "clean_console_auths_for_instance")
async def clean_console_auths_for_instance(call: ClassCall, instance_uuid: str) -> None:
    sql = "DELETE FROM console_auth_tokens WHERE instance_uuid = %s"
    await call.db.execute(sql, (instance_uuid,))


@remotable_classmethod("ConsoleAuthToken", "clean_expired_console_auths")
async def clean_expired_console_auths(call: ClassCall) -> None:
    now = int(time.time())  # timeutils.utcnow_ts(): `expires` holds epoch seconds
    sql = "DELETE FROM console_auth_tokens WHERE expires <= %s"
    await call.db.execute(sql, (now,))
