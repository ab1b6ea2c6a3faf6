"""Core statements compiled once per shape and run on the driver through `db.raw`.

Building a Core SELECT on every call and letting SQLAlchemy derive its cache key walks every
column of the statement; for the instance read (80-odd labelled columns, three tables) that
walk cost more CPU than parsing the rows it returned (py-spy of the boot storm: about 8 % of
a worker in cache-key generation alone). The statement is still written with Core, so there
is one definition of each query; callers cache the compiled form by the few facts that
change its text and bind the rest as parameters at call time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import mysql
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# aiomysql and asyncmy both use the `format` paramstyle (positional `%s`), as pymysql does.
_DIALECT = mysql.dialect(paramstyle="format")


@dataclass(frozen=True, slots=True)
class PreparedSql:
    sql: str
    order: tuple[str, ...]
    defaults: Mapping[str, Any]

    def args(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """Positional arguments: `values` by bind name, the statement's own literals else."""
        return tuple(values[n] if n in values else self.defaults[n] for n in self.order)


def prepare(statement: ClauseElement) -> PreparedSql:
    compiled = statement.compile(dialect=_DIALECT)
    assert isinstance(compiled, SQLCompiler)
    return PreparedSql(compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params))
