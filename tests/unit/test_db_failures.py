"""Driver errors reach nova's clients under the oslo.db class nova-conductor would give them
(oslo_db.sqlalchemy.exc_filters), or as SQLAlchemy's own where oslo.db leaves them so."""

from __future__ import annotations

import pymysql
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from aioconductor.db.failures import as_oslo_db_error, reported_as_oslo_db
from aioconductor.messaging.failures import failure_dict


def _error(kind: type[DBAPIError], errno: int, text: str, invalidated: bool = False) -> DBAPIError:
    orig = pymysql.err.OperationalError(errno, text)
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_error(OperationalError, 2003, "Can't connect to MySQL server"), "DBConnectionError"),
        (_error(OperationalError, 2013, "Lost connection to server"), "DBConnectionError"),
        (_error(OperationalError, 1927, "Connection was killed", True), "DBConnectionError"),
        (_error(OperationalError, 1213, "Deadlock found when trying"), "DBDeadlock"),
        (_error(OperationalError, 1205, "Lock wait timeout exceeded"), "DBDeadlock"),
        (_error(IntegrityError, 1062, "Duplicate entry 'x' for key"), "DBDuplicateEntry"),
        (_error(IntegrityError, 1452, "Cannot add or update a child row"), "DBReferenceError"),
        (_error(OperationalError, 1366, "Incorrect string value"), "DBDataError"),
        (_error(ProgrammingError, 1064, "You have an error in your SQL"), "DBError"),
    ],
)
def test_mysql_errors_get_oslo_db_classes(error: DBAPIError, expected: str) -> None:
    translated = as_oslo_db_error(error)
    assert translated is not None
    failure = failure_dict(translated)
    assert (failure["class"], failure["module"]) == (expected, "oslo_db.exception")
    assert failure["args"] == [str(error)]  # oslo.db's DBError(inner) keeps str(inner)


@pytest.mark.parametrize(
    "error",
    [
        _error(OperationalError, 1040, "Too many connections"),
        _error(ProgrammingError, 1146, "Table 'nova.x' doesn't exist"),
    ],
)
def test_errors_oslo_db_leaves_alone_stay_sqlalchemy_errors(error: DBAPIError) -> None:
    assert as_oslo_db_error(error) is None
    with pytest.raises(type(error)), reported_as_oslo_db():
        raise error


def test_the_block_raises_the_translation_chained_to_the_driver_error() -> None:
    error = _error(OperationalError, 2003, "Can't connect to MySQL server")
    with pytest.raises(Exception, match="Can't connect") as raised, reported_as_oslo_db():
        raise error
    assert type(raised.value).__name__ == "DBConnectionError"
    assert raised.value.__cause__ is error
