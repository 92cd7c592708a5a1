"""Paths and limits, overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Largest file a reader accepts (bytes). Larger files are refused, not truncated.
MAX_FILE_BYTES = int(os.environ.get("DASAN_MAX_FILE_BYTES", str(100 * 1024 * 1024)))
#: Largest total uncompressed size accepted from a ZIP-based format (HWPX, DOCX, XLSX).
MAX_UNZIPPED_BYTES = int(os.environ.get("DASAN_MAX_UNZIPPED_BYTES", str(512 * 1024 * 1024)))
#: Largest decompressed size of one HWP stream.
MAX_STREAM_BYTES = int(os.environ.get("DASAN_MAX_STREAM_BYTES", str(256 * 1024 * 1024)))

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The store directory: ``--data-dir``, else ``DASAN_HOME``, else the user data dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("DASAN_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("dasan"))


def shared_dir() -> Path:
    """Location of the shared test material (``../shared`` beside the checkout)."""
    env = os.environ.get("DASAN_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def examples_dir() -> Path:
    return REPO_ROOT / "examples"
