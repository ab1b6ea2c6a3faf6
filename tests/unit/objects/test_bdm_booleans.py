"""A block_device_mapping row with NULL booleans (no_device is nullable in the schema and
has no default there) reads as nova reads it: BooleanField(default=False) turns None into
False. Found by the boot oracle: a blank BDM created without no_device went out as None."""

from __future__ import annotations

from aioconductor.objects.block_device import COLUMNS, bdm_data


def test_null_booleans_read_as_false() -> None:
    row = dict.fromkeys(COLUMNS)
    row.update(uuid="u", no_device=None, delete_on_termination=None, encrypted=None, deleted=0)
    data = bdm_data(row)
    assert (data["no_device"], data["delete_on_termination"], data["encrypted"]) == (
        False,
        False,
        False,
    )


def test_stored_booleans_are_kept() -> None:
    row = dict.fromkeys(COLUMNS)
    row.update(uuid="u", no_device=1, delete_on_termination=1, encrypted=0, deleted=0)
    data = bdm_data(row)
    assert (data["no_device"], data["delete_on_termination"], data["encrypted"]) == (
        True,
        True,
        False,
    )
