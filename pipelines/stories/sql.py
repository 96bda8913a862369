"""Statements of story assignment, run on the catalog connection's own driver (sqlite3 or psycopg).

Assignment runs a dozen small statements per article. Through SQLAlchemy each cost about 200 µs, of which
the database's part was 20 µs (measured: 2,000 articles, 13,600 statements, 2.9 s in ``execute``, 0.27 s in
sqlite3): so these statements go to the driver directly, inside the same transaction. They are written once
with ``:name`` parameters (a list or tuple value becomes ``(:name_0, :name_1, ...)``, for ``IN``) and
rendered for the driver's parameter style.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

_PARAMETER = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


class Driver:
    """The driver connection behind a SQLAlchemy connection, with statements written once for both."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.pyformat = connection.dialect.name == "postgresql"

    @property
    def _cursor(self) -> Any:
        return self.connection.connection.driver_connection.cursor()

    def _render(self, sql: str, parameters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        lists = tuple(sorted((name, len(value)) for name, value in parameters.items()
                             if isinstance(value, (list, tuple))))
        flat = dict(parameters)
        for name, _ in lists:
            values = flat.pop(name)
            flat.update({f"{name}_{n}": value for n, value in enumerate(values)})
        return _rendered(sql, lists, self.pyformat), flat

    def rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
        rendered, flat = self._render(sql, parameters or {})
        cursor = self._cursor
        cursor.execute(rendered, flat)
        return cursor.fetchall()

    def first(self, sql: str, parameters: dict[str, Any] | None = None) -> tuple | None:
        found = self.rows(sql, parameters)
        return found[0] if found else None

    def value(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        found = self.first(sql, parameters)
        return found[0] if found is not None else None

    def run(self, sql: str, parameters: dict[str, Any] | Sequence[dict[str, Any]] | Sequence[tuple] | None = None
            ) -> None:
        """A statement once, or once per row of ``parameters``: a list of dicts (without list values), or of
        tuples holding the values in the order the statement names them (no dict to build and read per row,
        for the index rows written thousands at a time)."""
        if isinstance(parameters, (list, tuple)):
            if parameters:
                positional = isinstance(parameters[0], tuple)
                self._cursor.executemany(_rendered(sql, (), self.pyformat, positional), list(parameters))
            return
        rendered, flat = self._render(sql, parameters or {})
        self._cursor.execute(rendered, flat)


@lru_cache(maxsize=512)
def _rendered(sql: str, lists: tuple[tuple[str, int], ...], pyformat: bool, positional: bool = False) -> str:
    sizes = dict(lists)

    def placeholder(match: re.Match[str]) -> str:
        name = match[1]
        if positional:
            return "%s" if pyformat else "?"
        if name not in sizes:
            return _one(name, pyformat)
        if not sizes[name]:
            return "(NULL)"  # IN (NULL): nothing matches
        return "(" + ", ".join(_one(f"{name}_{n}", pyformat) for n in range(sizes[name])) + ")"

    return _PARAMETER.sub(placeholder, sql)


def _one(name: str, pyformat: bool) -> str:
    return f"%({name})s" if pyformat else f":{name}"
