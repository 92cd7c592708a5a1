"""The tamper-evident audit log (:class:`dasan.security.audit.AuditLog`) in PostgreSQL.

With ``DASAN_DATABASE_URL`` set, every server, worker and command appends to one hash chain in
the tables ``audit_meta``/``audit_entries`` (migration 0003), so ``dasan audit verify`` checks
one chain however many processes wrote it. The chain, canonical form, keys and the verifier are
the shared code of :mod:`dasan.security.audit`; only the connection differs: :class:`_AuditConn`
gives that code the part of the ``sqlite3`` interface it uses. ``BEGIN IMMEDIATE`` (the SQLite
write lock) becomes ``BEGIN`` plus ``pg_advisory_xact_lock``, which serialises appends across
processes until the transaction ends, so two writers never take the same ``seq``/``parent``.
Database errors surface as ``sqlite3.OperationalError`` so the shared code turns them into
:class:`~dasan.errors.AuditError` (the caller stops rather than running unlogged).

The anchor (``audit.head``) stays a file in the data directory, outside the database; a
marker file ``audit.postgresql`` beside it says where the log is. Each data directory (a host,
or a shared one) anchors the newest entry appended through it — a lower bound of the one chain;
a data directory without an anchor yet joins the chain at its first append.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from dasan.security.audit import AuditLog
from dasan.store.postgres.db import Database, redact
from dasan.store.postgres.store import PostgresStore

#: advisory lock key serialising audit appends ("dasanA")
APPEND_LOCK = 0x64617361_6E41
MARKER = "audit.postgresql"
_TABLES = re.compile(r"\b(entries|meta)\b")


class _Cursor:
    def __init__(self, rows: list[Any], rowcount: int = -1) -> None:
        self._rows, self.rowcount = rows, rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class _AuditConn:
    """What :class:`AuditLog` and the verifier use of a ``sqlite3.Connection``, over the pool."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cm: Any = None
        self._conn: Any = None

    @staticmethod
    def _sql(sql: str) -> str:
        return _TABLES.sub(lambda m: f"audit_{m.group(1)}", sql.replace("%", "%%").replace("?", "%s"))

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> _Cursor:
        import psycopg

        head = sql.strip().upper()
        try:
            if head.startswith("PRAGMA"):
                return _Cursor([])
            if head.startswith("BEGIN"):
                self._cm = self._db.pool.connection()
                self._conn = self._cm.__enter__()
                self._conn.execute("BEGIN")
                if "IMMEDIATE" in head:  # a writer: one at a time, across processes
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
                return _Cursor([])
            if head in ("COMMIT", "ROLLBACK"):
                if self._conn is not None:
                    try:
                        self._conn.execute(head)
                    finally:
                        cm, self._cm, self._conn = self._cm, None, None
                        cm.__exit__(None, None, None)
                return _Cursor([])
            if self._conn is not None:
                cur = self._conn.execute(self._sql(sql), tuple(params))
                return _Cursor(cur.fetchall() if cur.description is not None else [], cur.rowcount)
            with self._db.pool.connection() as conn:
                cur = conn.execute(self._sql(sql), tuple(params))
                return _Cursor(cur.fetchall() if cur.description is not None else [], cur.rowcount)
        except psycopg.Error as e:
            raise sqlite3.OperationalError(f"PostgreSQL: {type(e).__name__}: {e}") from e

    def executemany(self, sql: str, seq: Any) -> _Cursor:
        for params in seq:
            self.execute(sql, params)
        return _Cursor([])

    def close(self) -> None:
        if self._conn is not None:
            self.execute("ROLLBACK")


class PgAuditLog(AuditLog):
    """The audit log of an installation whose store is PostgreSQL (``open_audit`` picks it)."""

    def __init__(self, url: str, data_dir: str | Path, *, key: bytes | str | None = None,
                 durable: bool | None = None) -> None:
        super().__init__(data_dir, key=key, durable=durable)
        self.url = url
        data = Path(data_dir).expanduser()
        data.mkdir(parents=True, exist_ok=True)
        self.db_path = data / MARKER  # verify_log looks for the log here: the marker names the database
        if not self.db_path.exists():
            self.db_path.write_text(f"audit log in PostgreSQL: {redact(url)}\n", encoding="utf-8")
        self._data = data
        self._store: PostgresStore | None = None
        self._database()  # applies the migrations (audit tables); fails early when unreachable

    def _database(self) -> Database:
        if self._store is None:
            from dasan.store.postgres.store import PostgresStore

            self._store = PostgresStore(self.url, self._data, pool_max=3)
        return self._store.db

    def _open(self) -> Any:
        from dasan.errors import AuditError, StoreError

        try:
            conn = _AuditConn(self._database())
        except StoreError as e:
            raise AuditError(f"감사 로그 데이터베이스에 연결할 수 없습니다: {e.message}") from e
        self._ensure_schema(conn)  # reads the meta row, creating it on a new log
        return conn

    def _reader(self) -> Any:
        return self._open()

    def _check_tail(self, conn: Any, last: Any) -> None:
        """As in SQLite, except that a data directory without an anchor file yet may join a log
        other processes started: each data directory (host) anchors the newest entry it
        appended, a lower bound of the one chain in the database."""
        from dasan.errors import AuditError

        if last is not None and not self.head_path.exists():
            if not self.row_intact(last):
                raise AuditError(f"감사 로그의 마지막 항목({last[0]}번)이 변조되었습니다. `dasan audit verify`로 확인하세요.")
            return
        super()._check_tail(conn, last)

    def close(self) -> None:
        super().close()
        if self._store is not None:
            store, self._store = self._store, None
            store.close()


def open_audit(data_dir: str | Path, **kw: Any) -> AuditLog:
    """The installation's audit log: in PostgreSQL when ``DASAN_DATABASE_URL`` is set, else
    ``audit.db`` in the data directory."""
    from dasan.store import database_url

    url = database_url()
    if url:
        return PgAuditLog(url, data_dir, **kw)
    return AuditLog(data_dir, **kw)
