"""Document and chunk storage behind one contract (:class:`dasan.store.base.Store`)."""

from __future__ import annotations

from pathlib import Path

from dasan.store.base import DocumentRecord, Store


def database_url() -> str:
    """``DASAN_DATABASE_URL`` (empty: the embedded SQLite store)."""
    from dasan import settings

    return (settings.get("DASAN_DATABASE_URL") or "").strip()


def open_store(data_dir: str | Path, url: str | None = None) -> Store:
    """Open (creating and migrating if needed) the store: PostgreSQL when ``url`` (default
    ``DASAN_DATABASE_URL``) is a ``postgresql://`` URL, else SQLite in ``data_dir``."""
    url = database_url() if url is None else url.strip()
    if url:
        from dasan.errors import ConfigError
        from dasan.store.postgres.db import is_postgres_url

        if not is_postgres_url(url):
            raise ConfigError("DASAN_DATABASE_URL은 postgresql://로 시작해야 합니다 "
                              "(예: postgresql://dasan:암호@db.example:5432/dasan). 내장 SQLite를 쓰려면 비워 두세요.")
        from dasan.store.postgres import PostgresStore

        return PostgresStore(url, Path(data_dir))
    from dasan.store.sqlite import SqliteStore

    return SqliteStore(Path(data_dir))


__all__ = ["DocumentRecord", "Store", "database_url", "open_store"]
