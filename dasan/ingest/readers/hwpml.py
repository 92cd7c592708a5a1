"""HWPML 2.x reader: the XML form of 한글 documents (``<HWPML>`` root, often saved as .hml/.hwp).

Layout: ``HWPML/HEAD/DOCSUMMARY`` (title, author, date …), ``HWPML/BODY/SECTION/P/TEXT/CHAR``
for text and ``TABLE/ROW/CELL/PARALIST/P`` for tables; ``TAIL`` holds embedded binaries
(base64) and is never parsed. The document is read as a stream with the same hardened
parser and paragraph walker as HWPX, so DOCTYPE/entity tricks are refused and each
paragraph is dropped once turned into blocks.
"""

from __future__ import annotations

import io
from pathlib import Path

from lxml import etree

from dasan.errors import CorruptFileError
from dasan.ingest.readers.hwpx import NamespaceError, ParagraphWalker, drop, iter_xml_events, local_name
from dasan.types import Block, Document

_SUMMARY_KEYS = {
    "title": "title",
    "subject": "subject",
    "author": "author",
    "date": "date",
    "keywords": "keywords",
    "comments": "description",
}


class HwpmlReader:
    format = "hwpml"

    def read(self, path: Path, data: bytes) -> Document:
        try:
            return self._read(path, data, recover=False)
        except NamespaceError:
            return self._read(path, data, recover=True)

    def _read(self, path: Path, data: bytes, *, recover: bool) -> Document:
        walker = ParagraphWalker()
        blocks: list[Block] = []
        metadata: dict[str, object] = {}
        section = -1
        seen_body = False
        stream = io.BytesIO(data)
        for event, depth, el in iter_xml_events(stream, label="HWPML", part="문서", recover=recover):
            ln = local_name(el)
            if event == "start":
                if depth == 1 and ln != "hwpml":
                    raise CorruptFileError(
                        f"HWPML 문서가 아닙니다 (최상위 요소가 <{ln}>입니다). 한글에서 HWP 또는 HWPX로 다시 저장해 주세요."
                    )
                if ln == "body" and depth == 2:
                    seen_body = True
                elif ln == "section" and depth == 3 and seen_body:
                    section += 1
                continue
            if depth == 4 and seen_body and local_name(el.getparent()) == "section":
                blocks.extend(walker.top_level(el, max(section, 0)))
                drop(el)
            elif ln == "docsummary":
                _summary(el, metadata)
            elif depth == 2 and ln == "head":
                drop(el)
            elif depth == 2 and ln == "body":
                break  # TAIL (embedded binaries) is not needed
        if not seen_body:
            raise CorruptFileError("HWPML 문서에 본문(BODY)이 없습니다. 파일이 잘렸거나 손상되었습니다.")
        title = metadata.pop("title", None)
        metadata["sections"] = section + 1
        return Document(
            source=str(path),
            format=self.format,
            blocks=blocks,
            title=str(title) if title else None,
            metadata=metadata,
        )


def _summary(el: etree._Element, metadata: dict[str, object]) -> None:
    for child in el:
        key = _SUMMARY_KEYS.get(local_name(child))
        if key:
            value = "".join(child.itertext()).strip()
            if value:
                metadata[key] = value
