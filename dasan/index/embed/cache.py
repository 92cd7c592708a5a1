"""Persistent embedding cache, so re-ingesting unchanged text never re-embeds it.

One SQLite file (``embeddings.sqlite`` in the given directory) maps
``sha256(model name, prefix kind, text)`` to the float32 vector bytes. The cache is bounded
(``max_entries``; the least recently used rows are evicted in bulk) and disposable: a file
that is not a valid database, or a row whose blob has the wrong size, is treated as a miss and
the file is rebuilt; a cache failure never fails an embedding call.

:class:`CachedEmbedder` wraps any :class:`~dasan.index.embed.base.Embedder`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dasan.errors import EmbeddingError
from dasan.index.embed.base import Embedder, Kind, empty
from dasan.sqliteutil import retry_locked

log = logging.getLogger(__name__)

FILENAME = "embeddings.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    key BLOB PRIMARY KEY,
    dim INTEGER NOT NULL,
    vec BLOB NOT NULL,
    used REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used);
"""


def cache_key(model: str, kind: str, text: str) -> bytes:
    h = hashlib.sha256()
    for part in (model, kind, text):
        b = part.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))  # length-prefixed: no ambiguity between fields
        h.update(b)
    return h.digest()


class EmbeddingCache:
    def __init__(self, directory: str | Path, *, max_entries: int = 200_000) -> None:
        if max_entries < 1:
            raise EmbeddingError(f"캐시 크기(max_entries)는 1 이상이어야 합니다 (받은 값: {max_entries}).")
        self.path = Path(directory) / FILENAME
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._count = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise EmbeddingError(
                f"임베딩 캐시 폴더를 만들 수 없습니다: {self.path.parent} ({e}). 경로와 권한을 확인하세요."
            ) from e
        with self._lock:
            self._open()

    # -- connection management ---------------------------------------------------------------
    def _open(self) -> None:
        try:
            self._connect()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e):
                log.warning("embedding cache %s unreadable (%s); rebuilding", self.path, e)
                self._rebuild()
            else:  # another process holds it for long: work without the cache, never delete it
                log.warning("embedding cache %s busy (%s); continuing without it", self.path, e)
                self._db = None
        except sqlite3.DatabaseError as e:
            log.warning("embedding cache %s unreadable (%s); rebuilding", self.path, e)
            self._rebuild()

    def _connect(self) -> None:
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        try:
            retry_locked(lambda: db.execute("PRAGMA journal_mode=WAL"), seconds=10)
            db.execute("PRAGMA synchronous=NORMAL")
            retry_locked(lambda: db.executescript(_SCHEMA), seconds=10)
            self._count = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        except sqlite3.DatabaseError:
            db.close()
            raise
        self._db = db

    def _rebuild(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()
        try:
            self._connect()
        except sqlite3.Error as e:
            log.warning("embedding cache %s disabled: %s", self.path, e)
            self._db = None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __len__(self) -> int:
        return self._count

    # -- lookups -------------------------------------------------------------------------------
    def get_many(self, keys: list[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        if not keys:
            return found
        with self._lock:
            if self._db is None:
                return found
            try:
                bad: list[bytes] = []
                for i in range(0, len(keys), 500):
                    part = keys[i : i + 500]
                    q = f"SELECT key, dim, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})"
                    for key, d, blob in self._db.execute(q, part):
                        if d == dim and isinstance(blob, bytes) and len(blob) == 4 * dim:
                            found[key] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
                        else:
                            bad.append(key)
                now = time.time()
                self._db.executemany("UPDATE vectors SET used = ? WHERE key = ?", [(now, k) for k in found])
                if bad:
                    self._db.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in bad])
                    self._count -= len(bad)
            except sqlite3.DatabaseError as e:
                log.warning("embedding cache read failed (%s); rebuilding", e)
                self._rebuild()
                return {}
        return found

    def put_many(self, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        now = time.time()
        rows = [(k, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes(), now) for k, v in items]
        if not rows:
            return
        with self._lock:
            if self._db is None:
                return
            try:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
                self._count += len(rows)  # an upper bound; recounted before evicting
                if self._count > self.max_entries:
                    self._count = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
                    if self._count > self.max_entries:
                        self._evict()
            except sqlite3.DatabaseError as e:
                log.warning("embedding cache write failed (%s); rebuilding", e)
                self._rebuild()

    def _evict(self) -> None:
        """Drop the least recently used rows down to 90% of the bound."""
        assert self._db is not None
        keep = int(self.max_entries * 0.9)
        drop = self._count - keep
        self._db.execute(
            "DELETE FROM vectors WHERE key IN (SELECT key FROM vectors ORDER BY used LIMIT ?)", (drop,)
        )
        self._count = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


class CachedEmbedder:
    """An :class:`Embedder` that only sends texts it has not embedded before to ``inner``."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def thread_safe(self) -> bool:
        return bool(getattr(self.inner, "thread_safe", False))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def _embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a single string")
        if not texts:
            return empty(self.dim)
        dim = self.dim
        keys = [cache_key(self.name, kind, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)), dim)
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in found and k not in todo:
                todo[k] = t
        self.hits += len(texts) - sum(1 for k in keys if k in todo)
        self.misses += len(todo)
        if todo:
            fn = self.inner.embed_queries if kind == "query" else self.inner.embed_passages
            fresh = fn(list(todo.values()))
            new = dict(zip(todo, fresh, strict=True))
            self.cache.put_many(new.items())
            found.update(new)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
