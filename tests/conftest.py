"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pg import pg_server, pg_url  # noqa: F401 - fixtures: a throwaway PostgreSQL (tests/pg.py)

from dasan.config import shared_dir


def shared_path(*parts: str) -> Path:
    """Path under ../shared; fails under CI when missing, skips otherwise."""
    p = shared_dir().joinpath(*parts)
    if not p.exists():
        msg = f"shared test material missing: {p} (set DASAN_SHARED)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return p


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "dasan-data"
    d.mkdir()
    return d


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A store directory holding 청년기본법 (law, decree, rule) in collection ``laws``."""
    from dasan.ingest.pipeline import ingest_paths
    from dasan.store import open_store

    d = tmp_path / "store"
    store = open_store(d)
    report = ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    assert not report.summary()["failed"]
    store.close()
    return d
