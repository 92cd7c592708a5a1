"""Content-addressed identifiers."""

from __future__ import annotations

import hashlib

#: Bump when readers, parsers or chunking change output for the same bytes, so that
#: re-ingesting re-processes files instead of reporting them unchanged.
PIPELINE_VERSION = 3  # 2: press headers read from table cells (headline, 보도시점 per channel, contacts)
#: 3: section headings recognised from their text in HWP/HWPX/PDF ("제3장 …", "3.1 …")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document_id(collection: str, digest: str) -> str:
    return hashlib.sha256(f"{collection}\0{digest}\0{PIPELINE_VERSION}".encode()).hexdigest()[:32]
