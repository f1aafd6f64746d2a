"""Prebuilt statements run on the driver itself on PostgreSQL.

For the hottest statements, SQLAlchemy's work per execution (cache-key lookup, execution context,
result metadata) costs more than psycopg's own (ADR 0009 has the numbers). `rows` does the rest of
what SQLAlchemy does for them: it compiles each statement once (per statement object), passes the
values through the same bind processors and the rows through the same result processors, tells the
`before_cursor_execute` listeners, and raises driver errors as SQLAlchemy's (a lost connection is
invalidated, and answered 503 as elsewhere). SQLite, and a statement with an expanding IN
parameter, take SQLAlchemy's own path.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # values of the statement's own constants (`literal()`)
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters whose type converts them
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # columns whose type converts them


# Per statement object, for as long as it lives (PostgreSQL's only: the one dialect that uses it).
_compiled: WeakKeyDictionary[Select[Any], _Compiled | None] = WeakKeyDictionary()


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    compiled = statement.compile(dialect=dialect)
    if any(bind.expanding for bind in compiled.binds.values()):
        return None  # rendered anew per execution: SQLAlchemy's business
    binds = ((name, bind.type.bind_processor(dialect)) for name, bind in compiled.binds.items())
    results = ((index, column.type.result_processor(dialect, None))
               for index, column in enumerate(statement.selected_columns))
    return _Compiled(
        sql=compiled.string,
        defaults={name: bind.value for name, bind in compiled.binds.items() if not bind.required},
        binds=tuple((name, process) for name, process in binds if process is not None),
        results=tuple((index, process) for index, process in results if process is not None),
    )


def rows(connection: Connection, statement: Select[Any], params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """All rows of `statement` in the order of its selected columns. Build the statement once (module
    level or cached): its compiled SQL is kept as long as the statement object lives."""
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, params).all()
    try:
        compiled = _compiled[statement]
    except KeyError:
        compiled = _compiled[statement] = _compile(statement, connection.dialect)
    if compiled is None:
        return connection.execute(statement, params).all()
    values = {**compiled.defaults, **params}
    for name, process in compiled.binds:
        values[name] = process(values[name])
    driver = connection.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    connection.dispatch.before_cursor_execute(connection, cursor, compiled.sql, values, None, False)
    try:
        cursor.execute(compiled.sql, values)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    except connection.dialect.loaded_dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, driver, cursor)
        if lost:
            connection.invalidate(error)
        raise DBAPIError.instance(compiled.sql, values, error, connection.dialect.loaded_dbapi.Error,
                                  hide_parameters=True, connection_invalidated=lost,
                                  dialect=connection.dialect) from error
    finally:
        cursor.close()
    if not compiled.results:
        return found
    converted = []
    for row in found:
        columns = list(row)
        for index, process in compiled.results:
            columns[index] = process(columns[index])
        converted.append(columns)
    return converted
