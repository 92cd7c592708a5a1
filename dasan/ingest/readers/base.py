"""The reader contract: one reader per format, each returning a :class:`~dasan.types.Document`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dasan.types import Document


class Reader(Protocol):
    """Reads one file format.

    ``format`` is the short name stored on the document (``hwp``, ``pdf`` …).
    ``read`` receives the path and the file's bytes (already size-checked) and returns a
    document, or raises a :class:`~dasan.errors.ReadError` subclass with a Korean message
    that names the problem. It never returns ``None`` and never raises anything else on bad
    input. An unreadable-but-valid file with no text returns a document whose ``is_empty``
    is true (and, for paged formats, lists the pages in ``empty_pages``).
    """

    format: str

    def read(self, path: Path, data: bytes) -> Document: ...
