"""PDF reader (pypdf): the text layer page by page.

Each page starts with a ``page_break`` block; every text block carries its page number.
Pages without a text layer (scans) are listed in ``Document.empty_pages``; a scanned PDF
therefore reads as an empty document with all its pages listed, never as silently empty.

Line joining inside a paragraph: a space is kept where the text layer had one at the line
end/start; a statute reference or a number and its unit cut by the wrap (제60조의|6, 20|일)
is joined directly; between two Hangul syllables Kiwi decides whether the wrap hid a word
boundary (see :func:`kiwi_spacer`); anything else is joined with a space.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError
from dasan.types import Block, Document

# A line that starts a new paragraph: Korean document bullets, circled numbers, article
# headings (제3조), numbered items (1. 가. (1) 1)), and 부칙.
_STARTER = re.compile(
    r"^\s*(?:[□■○●◦◆◇▶▷▣※•·◎☐❍]|ㅇ\s|[-*]\s|[①-⑳]|제\s*\d+\s*(?:조|장|절|관|편)|"
    r"\d{1,3}(?:의\d{1,2})?[.)]\s|[가나다라마바사아자차카타파하][.)]\s|\(\d{1,2}\)|\([가-하]\)|부\s*칙|"
    r"붙\s*임|별\s*첨|담당\s*부서|담당자\s|책임자\s)"
)
_SENTENCE_END = re.compile(r"(?:[.?!:。]|다|음|함|됨|임|것)[\"'”’)\]]?\s*$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

#: Work a PDF may cost, relative to its size: text extracted (a text-only PDF yields a few
#: characters per byte) and content-stream operators run (pypdf spends ~20 µs on each). Pages that
#: all reuse one content stream, or a form XObject drawn a thousand times, exceed these at once.
MAX_TEXT_CHARS = 1_000_000
TEXT_PER_BYTE = 4
MAX_OPERATORS = 200_000
OPERATORS_PER_BYTE = 8


class _OperatorBudget:
    """A pypdf ``visitor_operand_before``: counts operators, including those inside form XObjects."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def __call__(self, *_: Any) -> None:
        self.left -= 1
        if self.left < 0:  # raised again at the next operator if a form XObject swallows it
            raise _TooMuchWork


class _TooMuchWork(Exception):
    pass


def _too_much(what: str) -> FileTooLargeError:
    return FileTooLargeError(
        f"PDF의 {what} 파일 크기에 비해 비정상적으로 많습니다 (여러 쪽이나 개체가 같은 내용을 되풀이해 "
        "참조하는 파일일 수 있음). 원본에서 PDF를 다시 만들어 주세요."
    )

# pypdf logs every robustness fix it applies to a malformed file; our errors say what matters.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


# A number followed by its counter/unit is written attached: 20일, 3명, 2026년, 10%.
_UNIT_START = re.compile(r"^[년월일시분초명개건회차원억만천백조항호목세층번쪽장절관편권부배%]")
_REF_TAIL = re.compile(r"(?:^|[^가-힣])제$|제\d+조의$|\d(?:조|항|호)(?:의\d+)?$")

Spacer = Callable[[str, str], bool]


def kiwi_spacer() -> Spacer:
    """Decide with Kiwi whether a line wrap between two Hangul syllables hides a space.

    A PDF text layer usually drops the space at a word-wrapped line end. Analysing the two
    halves joined with and without a space recovers it: a break inside a morpheme
    (안전관|리체계) scores much worse with a space, a break at a word boundary
    (기관과|광역자치단체) scores the same. Kiwi is loaded on first use only; without it
    the halves are joined directly (never a space inside a word).
    """
    state: dict[str, Any] = {}

    def spacer(left: str, right: str) -> bool:
        if "kiwi" not in state:
            try:
                from dasan.korean.sentences import get_kiwi

                state["kiwi"] = get_kiwi()
            except Exception:
                state["kiwi"] = None
        kiwi = state["kiwi"]
        if kiwi is None:
            return False
        try:
            joined = kiwi.analyze(left + right, top_n=1)[0][1]
            spaced = kiwi.analyze(left + " " + right, top_n=1)[0][1]
        except Exception:
            return False
        return spaced - joined > -1.0

    return spacer


def _separator(prev_raw: str, cur_raw: str, spacer: Spacer | None) -> str:
    """What goes between two wrapped lines of one paragraph."""
    prev, cur = prev_raw.rstrip(), cur_raw.strip()
    if not prev or not cur:
        return ""
    if prev_raw != prev or not cur_raw.startswith(cur):
        return " "  # the text layer itself had a space at the wrap
    a, b = prev[-1], cur[0]
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isalpha() and b.islower():
        return ""  # a hyphenated English word wrap
    if a.isdigit() and _UNIT_START.match(cur):
        return ""
    if (b.isdigit() or cur.startswith("제")) and _REF_TAIL.search(prev[-12:]):
        return ""  # a statute reference cut in the middle: 제60조의|6, 제38조|제1항
    if _HANGUL.match(a) and _HANGUL.match(b):
        if spacer is None:
            return ""
        return " " if spacer(prev.split()[-1][-12:], cur.split()[0][:12]) else ""
    return " "


def _width(s: str) -> int:
    """Display width: wide (Hangul, CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def page_paragraphs(text: str, spacer: Spacer | None = None) -> list[str]:
    """Split one page's extracted text into paragraphs; ``spacer`` resolves Hangul line wraps
    (see :func:`kiwi_spacer`; without it they are joined without a space)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    widths = sorted(_width(ln.strip()) for ln in lines if ln.strip())
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
        prev_width = _width(prev_raw.strip())
        if parts and (
            _STARTER.match(line)
            # a short line ends its paragraph; a sentence end a little short of full width too
            or (full >= 30 and prev_width < 0.6 * full)
            or (full >= 30 and prev_width < 0.85 * full and _SENTENCE_END.search(prev_raw[-40:]))
        ):
            close()
            prev_raw = ""
        if parts:
            parts.append(_separator(prev_raw, raw, spacer))
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
        spacer = kiwi_spacer()
        blocks: list[Block] = []
        empty: list[int] = []
        failed: list[int] = []
        seen: set[tuple[int, int]] = set()
        repeated = 0
        chars, budget = 0, MAX_TEXT_CHARS + TEXT_PER_BYTE * len(data)
        operators = _OperatorBudget(MAX_OPERATORS + OPERATORS_PER_BYTE * len(data))
        for n, page in enumerate(pages, start=1):
            blocks.append(Block(kind="page_break", page=n))
            ref = getattr(page, "indirect_reference", None)
            key = (ref.idnum, ref.generation) if ref is not None else None
            if key is not None and key in seen:
                repeated += 1  # the page tree lists one page object again: its text is already read
                continue
            if key is not None:
                seen.add(key)
            try:
                text = page.extract_text(visitor_operand_before=operators) or ""
            except MemoryError:
                raise
            except _TooMuchWork:
                raise _too_much("그리기 명령이") from None
            except Exception:  # RecursionError too: a form XObject that draws itself
                text = ""
                failed.append(n)
            if operators.left < 0:  # exhausted inside a form XObject whose error pypdf logged
                raise _too_much("그리기 명령이")
            chars += len(text)
            if chars > budget:
                raise _too_much("추출한 텍스트가")
            paras = page_paragraphs(text, spacer)
            if not paras:
                empty.append(n)
            blocks.extend(Block(kind="paragraph", text=p, page=n) for p in paras)
        title, meta = self._metadata(pdf)
        if failed:
            meta["page_errors"] = failed
        if repeated:
            meta["repeated_pages"] = repeated
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
