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
