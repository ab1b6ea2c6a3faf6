"""A driver error that escapes an object method, as nova-conductor would report it: what
oslo.db's exception filters (oslo_db.sqlalchemy.exc_filters) make of the same MySQL error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError

from aioconductor.errors import (
    DBConnectionError,
    DBDataError,
    DBDeadlock,
    DBDuplicateEntry,
    DBError,
    DBInvalidUnicodeParameter,
    DBReferenceError,
)

_CONNECTION = {2002, 2003, 2006, 2013, 1047, 1927}  # can't connect, server gone or lost, ...
_DEADLOCK = {1213, 1205}  # deadlock, lock wait timeout
_DUPLICATE = {1062}
_REFERENCE = {1216, 1217, 1451, 1452}  # foreign key constraints
_DATA = {1264, 1265, 1292, 1366, 1406}  # out of range, truncated, incorrect value, too long
_AS_IS = {1146}  # no such table: oslo.db leaves it to the dialect


def as_oslo_db_error(exc: DBAPIError) -> DBError | None:
    """The oslo.db error for `exc`, or None where oslo.db re-raises SQLAlchemy's own."""
    args = getattr(exc.orig, "args", ())
    errno = args[0] if args and isinstance(args[0], int) else None
    # oslo.db's DBError carries str(the SQLAlchemy exception) as its message and only arg
    message = str(exc)
    if exc.connection_invalidated or errno in _CONNECTION:
        return DBConnectionError(message)
    if errno in _DEADLOCK:
        return DBDeadlock(message)
    if errno in _DUPLICATE:
        return DBDuplicateEntry(message)
    if errno in _REFERENCE:
        return DBReferenceError(message)
    if errno in _DATA:
        return DBDataError(message)
    if errno in _AS_IS or isinstance(exc, OperationalError):
        return None  # oslo.db re-raises these: nova code checks for OperationalError itself
    return DBError(message)


@contextmanager
def reported_as_oslo_db() -> Iterator[None]:
    """Let a driver error out of the block as the oslo.db error nova-conductor would raise."""
    try:
        yield
    except DBAPIError as exc:
        translated = as_oslo_db_error(exc)
        if translated is None:
            raise
        raise translated from exc
    except UnicodeEncodeError as exc:
        # The driver could not encode a parameter (a lone surrogate in a filter): oslo.db's
        # filter for it (exc_filters._raise_for_unicode_encode) answers this, not the driver's
        # error, whose args would carry the whole statement to the caller.
        raise DBInvalidUnicodeParameter() from exc
