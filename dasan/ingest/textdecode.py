"""Decode the bytes of a text file (TXT, MD, CSV, JSONL, HTML) into ``str``.

Order of attempts: a byte-order mark, strict UTF-8, an encoding the file declares (HTML
``<meta charset>``), strict CP949 (a superset of EUC-KR, still common in Korean public-sector
files) when the result is mostly Hangul, and finally charset-normalizer's best guess. A file
that none of these can decode raises :class:`~dasan.errors.ReadError`: we never decode with
``errors="replace"`` and index mojibake.
"""

from __future__ import annotations

import codecs
import re

from dasan.errors import ReadError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")

_UNDECODABLE = (
    "텍스트 인코딩을 알 수 없습니다 (UTF-8, CP949/EUC-KR 어느 것으로도 읽히지 않습니다). "
    "파일을 UTF-8로 다시 저장해 주세요."
)


def _normalize_codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in ("ks_c_5601-1987", "ks_c_5601", "ksc5601", "x-windows-949", "windows-949", "ms949", "uhc"):
        return "cp949"
    if name in ("euc-kr", "euc_kr", "euckr"):
        return "cp949"  # EUC-KR files written on Windows routinely contain CP949-only syllables
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _mostly_korean(text: str) -> bool:
    """True when the non-ASCII characters of a CP949 decoding are mostly Hangul."""
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return True
    hangul = sum(1 for c in non_ascii if _HANGUL.match(c))
    return hangul / len(non_ascii) >= 0.6


def _plausible(text: str, encoding: str) -> bool:
    """Reject a BOM-less UTF-16/32 guess unless the result is mostly Hangul or ASCII: random
    bytes "decode" as UTF-16 into arbitrary CJK code points."""
    if "16" not in encoding and "32" not in encoding:
        return True
    sample = text[:4096]
    good = sum(1 for c in sample if ord(c) < 0x80 or _HANGUL.match(c))
    return bool(sample) and good / len(sample) >= 0.8


def _clean(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise :class:`ReadError` when no encoding fits."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc), enc
            except UnicodeDecodeError as e:
                raise ReadError(
                    f"파일이 {enc.upper()} 표시(BOM)로 시작하지만 {e.start}번째 바이트부터 올바르지 않습니다. "
                    "파일이 손상되었거나 인코딩이 섞여 있습니다. UTF-8로 다시 저장해 주세요."
                ) from e
    try:
        return _clean(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = _normalize_codec(declared)
    if codec and codec not in ("utf-8", "utf_8"):
        try:
            return _clean(data.decode(codec)), codec
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        text = data.decode("cp949")
    except UnicodeDecodeError:
        text = None
    if text is not None and _mostly_korean(text) and not _CONTROL.search(text):
        return _clean(text), "cp949"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and best.encoding:
        try:
            decoded = data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            decoded = None
        if decoded is not None and not _CONTROL.search(decoded[:65536]) and _plausible(decoded, best.encoding):
            return _clean(decoded), best.encoding
    raise ReadError(_UNDECODABLE)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` (see :func:`decode_bytes`) and normalise line endings to ``\\n``."""
    text, _ = decode_bytes(data, declared)
    return text.replace("\r\n", "\n").replace("\r", "\n")
