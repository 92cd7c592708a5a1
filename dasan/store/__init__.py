"""Document and chunk storage behind one contract (:class:`dasan.store.base.Store`)."""

from __future__ import annotations

from pathlib import Path

from dasan.store.base import DocumentRecord, Store


def open_store(data_dir: str | Path) -> Store:
    """Open (creating and migrating if needed) the store in ``data_dir``."""
    from dasan.store.sqlite import SqliteStore

    return SqliteStore(Path(data_dir))


__all__ = ["DocumentRecord", "Store", "open_store"]
