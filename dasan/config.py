"""Paths and limits. Values come from :mod:`dasan.settings` (environment, ``dasan.toml``,
defaults); the limits below are read at each use, not frozen at import."""

from __future__ import annotations

import os
from pathlib import Path

from dasan import settings

#: MAX_FILE_BYTES: largest file a reader accepts (larger files are refused, not truncated);
#: MAX_UNZIPPED_BYTES: largest total uncompressed size of a ZIP-based format (HWPX, DOCX, XLSX);
#: MAX_STREAM_BYTES: largest decompressed size of one HWP stream.
_LIMITS = ("MAX_FILE_BYTES", "MAX_UNZIPPED_BYTES", "MAX_STREAM_BYTES")


def __getattr__(name: str) -> int:
    if name in _LIMITS:
        return int(settings.get("DASAN_" + name))
    raise AttributeError(name)

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The store directory: ``--data-dir``, else ``DASAN_HOME``, else the user data dir."""
    if explicit:
        return Path(explicit).expanduser()
    return Path(settings.get("DASAN_HOME"))


def shared_dir() -> Path:
    """Location of the shared test material (``../shared`` beside the checkout)."""
    env = settings.get("DASAN_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def examples_dir() -> Path:
    return REPO_ROOT / "examples"
