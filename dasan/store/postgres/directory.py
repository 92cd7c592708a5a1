"""The principals directory (:class:`dasan.security.principals.Directory`) on PostgreSQL.

The directory's validation and policy code is shared with SQLite unchanged; only the
connection differs. :class:`_Conn` gives the directory the small part of the ``sqlite3``
connection interface it uses (``execute`` with ``?`` placeholders, ``lastrowid``,
``INSERT OR IGNORE``, ``in_transaction``) over the store's pool, translating the SQL dialect;
the two lookups by name are overridden to compare case-insensitively (SQLite's ``NOCASE``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dasan.security.principals import MAX_NAME_CHARS, DepartmentRecord
from dasan.store.directory import SqliteDirectory
from dasan.store.postgres.db import NO_RLS, SYSTEM, Database

_IGNORE_RE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO", re.IGNORECASE)
_RETURNING_TABLES = re.compile(r"^\s*INSERT\s+INTO\s+(users|api_keys|departments)\s*\(", re.IGNORECASE)


class _Cursor:
    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def translate(sql: str) -> tuple[str, bool]:
    """SQLite's dialect as the directory writes it → PostgreSQL; whether ``RETURNING id`` was added."""
    if "%" in sql:
        sql = sql.replace("%", "%%")
    ignore = bool(_IGNORE_RE.match(sql))
    if ignore:
        sql = _IGNORE_RE.sub("INSERT INTO", sql, count=1) + " ON CONFLICT DO NOTHING"
    sql = sql.replace("?", "%s")  # the directory's SQL has no '?' inside literals
    returning = bool(_RETURNING_TABLES.match(sql))
    if returning:
        sql += " RETURNING id"
    return sql, returning


class _Conn:
    """The part of a ``sqlite3.Connection`` that :class:`Directory` uses, over the pool."""

    row_factory = object()  # not None: Directory leaves it alone

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def in_transaction(self) -> bool:
        return self._db.in_tx()

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> _Cursor:
        text, returning = translate(sql)
        with self._db.tx(NO_RLS) as conn:  # inside a transaction: joins it
            cur = conn.execute(text, tuple(params))
            rows = cur.fetchall() if cur.description is not None else []
            lastrowid = int(rows[0][0]) if returning and rows else None
            return _Cursor(rows, cur.rowcount, lastrowid)

    @contextmanager
    def transaction(self) -> Iterator[_Conn]:
        with self._db.tx(SYSTEM):
            yield self


class PgDirectory(SqliteDirectory):
    """Users, departments, memberships, API keys and collection owners in PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self._conn = _Conn(db)  # type: ignore[assignment]
        self._lock = threading.RLock()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            with self._conn.transaction() as c:  # type: ignore[attr-defined]
                yield c

    def _user_row(self, name: str) -> Any:
        return self._conn.execute("SELECT * FROM users WHERE lower(name) = lower(?)", (name,)).fetchone()

    def _department_row(self, name: str) -> Any:
        if not isinstance(name, str) or len(name) > 4 * MAX_NAME_CHARS:
            return None
        return self._conn.execute("SELECT * FROM departments WHERE lower(name) = lower(?)",
                                  (unicodedata.normalize("NFC", name).strip(" "),)).fetchone()

    # one round trip where the shared code takes two (a database server is not a local file)
    def find_department(self, name: str) -> DepartmentRecord | None:
        if not isinstance(name, str) or len(name) > 4 * MAX_NAME_CHARS:
            return None
        row = self._conn.execute(
            """SELECT d.id, d.name, p.name AS parent, d.created_at FROM departments d
               LEFT JOIN departments p ON p.id = d.parent_id WHERE lower(d.name) = lower(?)""",
            (unicodedata.normalize("NFC", name).strip(" "),)).fetchone()
        if row is None:
            return None
        return DepartmentRecord(id=row["id"], name=row["name"], parent=row["parent"], created_at=row["created_at"])

    def get_department(self, name: str) -> DepartmentRecord:
        dept = self.find_department(name)
        if dept is None:
            self._department_id(name)  # raises NotFoundError with the shared Korean message
            raise AssertionError("unreachable")  # pragma: no cover
        return dept
