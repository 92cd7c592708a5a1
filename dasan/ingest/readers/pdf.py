"""PDF reader (pypdf): the text layer page by page.

Each page starts with a ``page_break`` block; every text block carries its page number.
Pages without a text layer (scans) are listed in ``Document.empty_pages``; a scanned PDF
therefore reads as an empty document with all its pages listed, never as silently empty.

Line joining inside a paragraph: a space is kept where the text layer had one at the line
end/start; two Hangul syllables are joined directly (a PDF line wrap inside a Korean word
must not become a space); anything else is joined with a space.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError, EncryptedFileError
from dasan.types import Block, Document

# A line that starts a new paragraph: Korean document bullets, circled numbers, article
# headings (제3조), numbered items (1. 가. (1) 1)), and 부칙.
_STARTER = re.compile(
    r"^\s*(?:[□■○●◦◆◇▶▷▣※•·◎☐❍]|ㅇ\s|[-*]\s|[①-⑳]|제\s*\d+\s*(?:조|장|절|관|편)|"
    r"\d{1,3}(?:의\d{1,2})?[.)]\s|[가나다라마바사아자차카타파하][.)]\s|\(\d{1,2}\)|\([가-하]\)|부\s*칙)"
)
_SENTENCE_END = re.compile(r"(?:[.?!:。]|다|음|함|됨|임|것)[\"'”’)\]]?\s*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

# pypdf logs every robustness fix it applies to a malformed file; our errors say what matters.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def _separator(prev_raw: str, cur_raw: str) -> str:
    """What goes between two wrapped lines of one paragraph."""
    prev, cur = prev_raw.rstrip(), cur_raw.strip()
    if not prev or not cur:
        return ""
    if prev_raw != prev or not cur_raw.startswith(cur):
        return " "  # the text layer itself had a space at the wrap
    if _HANGUL.match(prev[-1]) and _HANGUL.match(cur[0]):
        return ""
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isalpha() and cur[:1].islower():
        return ""  # a hyphenated English word wrap
    return " "


def page_paragraphs(text: str) -> list[str]:
    """Split one page's extracted text into paragraphs."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    widths = sorted(len(ln.strip()) for ln in lines if ln.strip())
    full = widths[int(len(widths) * 0.9)] if widths else 0  # typical full-line width
    paras: list[str] = []
    parts: list[str] = []
    prev_raw = ""

    def close() -> None:
        text = "".join(parts).strip()
        if text:
            paras.append(text)
        parts.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            close()
            prev_raw = ""
            continue
        if parts and (
            _STARTER.match(line)
            or (full >= 20 and len(prev_raw.strip()) < 0.75 * full and _SENTENCE_END.search(prev_raw[-40:]))
        ):
            close()
            prev_raw = ""
        if parts:
            parts.append(_separator(prev_raw, raw))
        parts.append(line)
        prev_raw = raw
    close()
    return paras


def _date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None


class PdfReader:
    format = "pdf"

    def read(self, path: Path, data: bytes) -> Document:
        from pypdf import PasswordType
        from pypdf import PdfReader as _Pdf

        try:
            pdf = _Pdf(io.BytesIO(data), strict=False)
            encrypted = pdf.is_encrypted
        except (MemoryError, RecursionError):
            raise
        except Exception as e:
            raise CorruptFileError(
                f"PDF 파일이 손상되어 열 수 없습니다 ({type(e).__name__}: {e}). 원본에서 PDF를 다시 만들어 주세요."
            ) from e
        if encrypted:
            try:
                ok = pdf.decrypt("") != PasswordType.NOT_DECRYPTED
            except (MemoryError, RecursionError):
                raise
            except Exception as e:  # unsupported algorithm, missing crypto backend
                raise EncryptedFileError(
                    f"암호화된 PDF를 풀 수 없습니다 ({type(e).__name__}: {e}). 암호를 해제한 PDF로 다시 저장해 올려 주세요."
                ) from e
            if not ok:
                raise EncryptedFileError(
                    "암호가 걸린 PDF입니다. 열람 암호를 해제한 PDF로 다시 저장해 올려 주세요."
                )
        try:
            pages = list(pdf.pages)
        except (MemoryError, RecursionError):
            raise
        except Exception as e:
            raise CorruptFileError(
                f"PDF의 페이지 구조가 손상되었습니다 ({type(e).__name__}: {e}). 원본에서 PDF를 다시 만들어 주세요."
            ) from e
        blocks: list[Block] = []
        empty: list[int] = []
        failed: list[int] = []
        for n, page in enumerate(pages, start=1):
            blocks.append(Block(kind="page_break", page=n))
            try:
                text = page.extract_text() or ""
            except (MemoryError, RecursionError):
                raise
            except Exception:
                text = ""
                failed.append(n)
            paras = page_paragraphs(text)
            if not paras:
                empty.append(n)
            blocks.extend(Block(kind="paragraph", text=p, page=n) for p in paras)
        title, meta = self._metadata(pdf)
        if failed:
            meta["page_errors"] = failed
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=meta,
                        pages=len(pages), empty_pages=empty)

    @staticmethod
    def _metadata(pdf: Any) -> tuple[str | None, dict[str, Any]]:
        meta: dict[str, Any] = {}
        try:
            info = pdf.metadata
        except Exception:
            return None, meta
        if info is None:
            return None, meta
        title = None
        for key, attr in (("title", "title"), ("author", "author"), ("subject", "subject"),
                          ("creator", "creator"), ("producer", "producer"),
                          ("created", "creation_date"), ("modified", "modification_date")):
            try:
                value = getattr(info, attr)
            except Exception:
                continue  # a malformed date string only costs that field
            value = _date(value) if attr.endswith("_date") else (str(value).strip() if value else None)
            if value:
                meta[key] = value
        title = meta.pop("title", None)
        return title, meta
