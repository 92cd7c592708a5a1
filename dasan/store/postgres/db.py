"""Connections to PostgreSQL: a pool per store, rows that read like ``sqlite3.Row``, migrations.

Every unit of work takes a pooled connection inside one transaction (:meth:`Database.tx`); the
transaction starts by setting the access scope with ``set_config(…, true)`` (local to the
transaction, so nothing leaks into the next request that gets the same pooled connection) and
ends with COMMIT (or ROLLBACK on any error) when the connection goes back to the pool.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from dasan.errors import StoreError
from dasan.store.base import now_iso as _now
from dasan.store.base import read_migrations

log = logging.getLogger("dasan.store")

#: advisory lock key (any constant bigint) serialising migrations of one database
MIGRATION_LOCK = 0x64617361_6E4D  # "dasanM"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(str(url).strip()).scheme in ("postgresql", "postgres")


def redact(url: str) -> str:
    """The URL without its password (for messages and /readyz)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return parts._replace(netloc=netloc).geturl()
    return url


class RowBase(tuple):
    """A result row read by position or by column name (like ``sqlite3.Row``)."""

    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        return default if i is None else tuple.__getitem__(self, i)


_ROW_CLASSES: dict[tuple[str, ...], type] = {}


def row_factory(cursor: Any) -> Any:
    desc = cursor.description
    if desc is None:
        return tuple
    names = tuple(c.name for c in desc)
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = type("Row", (RowBase,), {"_index": {n: i for i, n in enumerate(names)}})
        if len(_ROW_CLASSES) < 4096:
            _ROW_CLASSES[names] = cls
    return cls




class Database:
    """A connection pool to one PostgreSQL database (``psycopg_pool.ConnectionPool``)."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0,
                 name: str = "dasan") -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as e:  # pragma: no cover - a dependency
            raise StoreError("PostgreSQL 저장소에는 psycopg와 psycopg-pool이 필요합니다: pip install 'psycopg[binary]' "
                             "psycopg-pool") from e
        self.url = url
        self.timeout = timeout
        self.max_size = max_size
        self._local = threading.local()
        self.pool = ConnectionPool(url, min_size=min(min_size, max_size), max_size=max_size, timeout=timeout,
                                   kwargs={"row_factory": row_factory, "autocommit": True},
                                   name=name, open=False)
        try:
            self.pool.open(wait=True, timeout=min(timeout, 15.0))
        except Exception as e:
            with contextlib.suppress(Exception):
                self.pool.close(timeout=0)
            raise StoreError(f"PostgreSQL 데이터베이스에 연결할 수 없습니다 ({redact(url)}): {type(e).__name__}. "
                             "DASAN_DATABASE_URL과 서버 상태를 확인하세요.") from e

    @contextlib.contextmanager
    def tx(self, scope: Any = "system") -> Iterator[Any]:
        """One transaction on a pooled connection with the access scope set (re-entrant within
        a thread: a nested call joins the open transaction, with the same scope only).

        Connections are in autocommit mode; ``BEGIN`` and the scope's ``set_config`` calls go in
        one round trip, ``COMMIT`` (or ``ROLLBACK`` on any error) in another. ``NO_RLS`` (tables
        without row-level security: the principals directory) runs each statement on its own."""
        open_conn = getattr(self._local, "conn", None)
        if open_conn is not None:
            if scope != self._local.scope and scope != NO_RLS:  # never widen or narrow silently
                raise StoreError("한 트랜잭션 안에서 접근 범위를 바꿀 수 없습니다 (내부 오류). 관리자에게 알리세요.")
            yield open_conn
            return
        from psycopg_pool import PoolTimeout

        try:
            cm = self.pool.connection()
            conn = cm.__enter__()
        except PoolTimeout as e:
            raise StoreError(f"데이터베이스 연결 풀이 {self.timeout:g}초 안에 연결을 내주지 못했습니다 (최대 {self.max_size}개). "
                             "DASAN_DATABASE_POOL_MAX를 늘리거나 PostgreSQL의 max_connections를 확인하세요.") from e
        if scope == NO_RLS:
            try:
                yield conn
            finally:
                cm.__exit__(None, None, None)
            return
        self._local.conn, self._local.scope = conn, scope
        try:
            conn.execute(begin_sql(scope))
            yield conn
            conn.execute("COMMIT")
        except BaseException as e:
            self._local.conn = None
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            cm.__exit__(type(e), e, e.__traceback__)
            raise
        self._local.conn = None
        cm.__exit__(None, None, None)

    def read(self, query: str, params: tuple[Any, ...] = (), scope: Any = "system") -> list[Any]:
        """One read statement in one round trip: the scope's ``set_config`` calls and the query go
        in one simple-protocol message, which PostgreSQL runs as one implicit transaction (so
        the settings end with it). Parameters are bound client-side (quoted by psycopg).
        Inside an open transaction of this thread, the statement joins it."""
        if getattr(self._local, "conn", None) is not None:
            with self.tx(scope) as conn:
                return conn.execute(query, params).fetchall()
        import psycopg
        from psycopg_pool import PoolTimeout

        head, head_params = scope_sql(scope)
        try:
            with self.pool.connection() as conn:
                cur = psycopg.ClientCursor(conn, row_factory=row_factory)
                cur.execute(f"{head}; {query}" if head else query, (*head_params, *params))
                if head:
                    cur.nextset()
                return cur.fetchall()
        except PoolTimeout as e:
            raise StoreError(f"데이터베이스 연결 풀이 {self.timeout:g}초 안에 연결을 내주지 못했습니다 (최대 {self.max_size}개). "
                             "DASAN_DATABASE_POOL_MAX를 늘리거나 PostgreSQL의 max_connections를 확인하세요.") from e

    def in_tx(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def migrate(self) -> int:
        """Apply the numbered migrations not applied yet (one transaction each, under an advisory
        lock so that replicas starting together do not race); returns the schema version."""
        with self.tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() is None:
                raise StoreError("PostgreSQL 데이터베이스에 vector 확장이 없습니다. 관리자(DBA)가 먼저 "
                                 "`CREATE EXTENSION vector;`를 실행해야 합니다 (README의 'Scaling out' 참고).")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                         "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in read_migrations("migrations_pg"):
                if version in done:
                    continue
                log.info("applying PostgreSQL migration %04d", version)
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (%s, %s)", (version, _now()))
            row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        self.pool.close(timeout=5)


@dataclass(frozen=True)
class AccessScope:
    """What one request may read, as row-level security sees it: the highest level rank
    (0 공개, 1 민감, 2 기밀) and the permitted collections (``None``: every collection)."""

    max_level: int
    collections: frozenset[str] | None = None

    @classmethod
    def from_filter(cls, flt: Any) -> AccessScope | None:
        """The scope of a search filter built by :func:`dasan.security.guard.search_filter`
        (``max_level`` and ``collections``); None when the filter does not say (fail closed
        is then up to the caller)."""
        from dasan.types import LEVELS

        if flt is None or not getattr(flt, "max_level", None):
            return None
        level = flt.max_level
        rank = LEVELS.index(level) if level in LEVELS else -1
        cols = getattr(flt, "collections", None)
        return cls(rank, frozenset(cols) if cols is not None else None)

    @classmethod
    def for_principal(cls, store: Any, principal: Any) -> AccessScope:
        """What ``principal`` may read, as computed by the application's access policy."""
        from dasan.security import guard

        scope = cls.from_filter(guard.search_filter(store, principal))
        assert scope is not None  # search_filter always sets max_level
        return scope


#: the store's own work (ingest, index builds, migrations): sees every row
SYSTEM = "system"


def scope_sql(scope: Any) -> tuple[str, tuple[str, ...]]:
    """The ``set_config`` statement of a scope and its parameters (``("", ())`` for none)."""
    if scope is None or scope == NO_RLS:
        return "", ()
    if scope == SYSTEM:
        return "SELECT set_config('dasan.system', 'on', true)", ()
    if not isinstance(scope, AccessScope):
        raise StoreError("알 수 없는 접근 범위입니다 (내부 오류). 관리자에게 알리세요.")
    cols = "*" if scope.collections is None else json.dumps(sorted(scope.collections), ensure_ascii=False)
    return ("SELECT set_config('dasan.level', %s, true), set_config('dasan.collections', %s, true)",
            (str(int(scope.max_level)), cols))


#: tables without row-level security (the principals directory): no scope needed
NO_RLS = "no-rls"


def begin_sql(scope: Any) -> Any:
    """``BEGIN`` plus the transaction-local settings that the row-level security policies read
    (one statement string, values quoted client-side).

    ``SYSTEM``: the application itself (it applies its own filters); an :class:`AccessScope`:
    one principal; ``None``: nothing is set, and the policies then show no rows at all."""
    from psycopg import sql

    if scope is None:
        return "BEGIN"
    if scope == SYSTEM:
        return "BEGIN; SELECT set_config('dasan.system', 'on', true)"
    if not isinstance(scope, AccessScope):
        raise StoreError("알 수 없는 접근 범위입니다 (내부 오류). 관리자에게 알리세요.")
    cols = "*" if scope.collections is None else json.dumps(sorted(scope.collections), ensure_ascii=False)
    return sql.SQL("BEGIN; SELECT set_config('dasan.level', {}, true), set_config('dasan.collections', {}, true)"
                   ).format(sql.Literal(str(int(scope.max_level))), sql.Literal(cols))
