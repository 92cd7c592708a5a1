"""HWP 5.0 binary reader (한글 .hwp), on ``olefile`` and ``zlib`` with our own record parser.

Handles compressed and uncompressed documents, distribution documents (배포용, decrypted
from ``ViewText``), and refuses password-protected and DRM documents with a clear message.
"""

from __future__ import annotations

import io
import re
import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import olefile

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError, UnsupportedFormatError
from dasan.ingest.readers.hwp_body import section_blocks
from dasan.ingest.readers.hwp_crypto import decrypt_view_section
from dasan.ingest.readers.hwp_records import inflate, parse_records
from dasan.types import Block, Document

SIGNATURE = b"HWP Document File"
SUMMARY_STREAM = "\x05HwpSummaryInformation"

# FileHeader flags (offset 36).
F_COMPRESSED = 1 << 0
F_PASSWORD = 1 << 1
F_DISTRIBUTION = 1 << 2
F_DRM = 1 << 4
F_CERT_ENCRYPTED = 1 << 8
F_CERT_DRM = 1 << 10

_SECTION = re.compile(r"^(BodyText|ViewText)/Section(\d+)$")
_OTHER_OLE = (
    ("WordDocument", "MS Word 97-2003 문서(.doc)"),
    ("Workbook", "MS Excel 97-2003 문서(.xls)"),
    ("Book", "MS Excel 5.0/95 문서(.xls)"),
    ("PowerPoint Document", "MS PowerPoint 97-2003 문서(.ppt)"),
    ("EncryptedPackage", "암호가 걸린 MS Office 문서"),
    ("__substg1.0_0037001F", "Outlook 메시지(.msg)"),
)
_SUMMARY_FIELDS = {2: "title", 3: "subject", 4: "author", 5: "keywords", 6: "comments", 8: "last_author"}
_SUMMARY_DATES = {12: "created", 13: "modified"}


class HwpReader:
    format = "hwp"

    def read(self, path: Path, data: bytes) -> Document:
        ole = _open_ole(data)
        try:
            return self._read(path, ole)
        finally:
            ole.close()

    def _read(self, path: Path, ole: olefile.OleFileIO) -> Document:
        streams = ["/".join(p) for p in ole.listdir(streams=True, storages=False)]
        if "FileHeader" not in streams:
            raise UnsupportedFormatError(_not_hwp_message(streams))
        header = _read_stream(ole, "FileHeader")
        flags, version = _check_header(header)
        compressed = bool(flags & F_COMPRESSED)
        distribution = bool(flags & F_DISTRIBUTION)
        prefix = "ViewText" if distribution else "BodyText"
        sections = sorted(
            (int(m.group(2)), s) for s in streams if (m := _SECTION.match(s)) and m.group(1) == prefix
        )
        if not sections:
            hint = " 미리보기 텍스트(PrvText)만 있고 본문이 없어 색인할 수 없습니다." if "PrvText" in streams else ""
            raise CorruptFileError(
                f"HWP 문서에 본문 스트림({prefix}/Section0)이 없습니다.{hint} 원본 파일을 한글에서 다시 저장해 주세요."
            )
        blocks: list[Block] = []
        for index, (_, name) in enumerate(sections):
            raw = _read_stream(ole, name)
            if distribution:
                raw = decrypt_view_section(raw, name)
            try:
                payload = inflate(raw, name, config.MAX_STREAM_BYTES) if compressed else raw
            except CorruptFileError as e:
                if not distribution:
                    raise
                raise CorruptFileError(
                    f"배포용 문서의 '{name}' 스트림을 복호화하지 못했습니다 (손상되었거나 지원하지 않는 배포용 형식). "
                    "한글에서 배포용 설정을 해제한 원본을 받아 주세요."
                ) from e
            if len(payload) > config.MAX_STREAM_BYTES:
                raise FileTooLargeError(f"HWP '{name}' 스트림이 너무 큽니다. DASAN_MAX_STREAM_BYTES 한도를 올리세요.")
            records = parse_records(payload, name, strict=not distribution)
            del raw, payload
            blocks.extend(section_blocks(records, index, name))
        metadata = _summary(ole) if SUMMARY_STREAM in streams else {}
        metadata["hwp_version"] = version
        if distribution:
            metadata["distribution"] = True
        title = metadata.get("title") or None
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=metadata)


def _open_ole(data: bytes) -> olefile.OleFileIO:
    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except Exception as e:  # olefile raises OSError, struct.error, IndexError … on damage
        raise CorruptFileError(
            f"손상된 OLE(복합 문서) 파일이라 HWP로 열 수 없습니다 ({type(e).__name__}). 원본 파일을 다시 받아 주세요."
        ) from e


def _read_stream(ole: olefile.OleFileIO, name: str) -> bytes:
    try:
        size = ole.get_size(name)
        if size > config.MAX_STREAM_BYTES:
            raise FileTooLargeError(f"HWP '{name}' 스트림이 너무 큽니다 ({size / 1048576:.0f} MB).")
        with ole.openstream(name) as s:
            data = s.read()
    except (FileTooLargeError, CorruptFileError):
        raise
    except Exception as e:
        raise CorruptFileError(
            f"HWP '{name}' 스트림을 읽을 수 없습니다 (파일이 잘렸거나 손상됨: {type(e).__name__}). "
            "원본 파일을 다시 받아 주세요."
        ) from e
    if len(data) < size:
        raise CorruptFileError(f"HWP '{name}' 스트림이 잘렸습니다 ({len(data)}/{size}바이트). 원본 파일을 다시 받아 주세요.")
    return data


def _not_hwp_message(streams: list[str]) -> str:
    for marker, kind in _OTHER_OLE:
        if marker in streams:
            return f"HWP 문서가 아니라 {kind}입니다. 지원 형식(HWP, HWPX, DOCX, XLSX, PDF)으로 변환해 주세요."
    return "HWP 문서가 아닌 OLE 복합 파일입니다 (옛 MS Office 등 다른 프로그램의 파일). HWP 5.0이나 HWPX로 저장해 주세요."


def _check_header(header: bytes) -> tuple[int, str]:
    if len(header) < 40 or not header.startswith(SIGNATURE):
        raise UnsupportedFormatError(
            "OLE 파일에 FileHeader가 있지만 HWP 5.0 서명이 없습니다. 한글에서 HWP 5.0이나 HWPX로 다시 저장해 주세요."
        )
    ver = struct.unpack_from("<I", header, 32)[0]
    version = f"{ver >> 24}.{(ver >> 16) & 0xFF}.{(ver >> 8) & 0xFF}.{ver & 0xFF}"
    if ver >> 24 != 5:
        raise UnsupportedFormatError(f"지원하지 않는 HWP 버전({version})입니다. 한글에서 HWP 5.0이나 HWPX로 다시 저장해 주세요.")
    flags = struct.unpack_from("<I", header, 36)[0]
    if flags & F_PASSWORD:
        raise EncryptedFileError("암호로 보호된 HWP 문서입니다. 한글에서 암호를 해제한 뒤 다시 저장해 주세요.")
    if flags & (F_DRM | F_CERT_ENCRYPTED | F_CERT_DRM):
        raise EncryptedFileError(
            "DRM(문서 보안) 또는 인증서로 암호화된 HWP 문서입니다. 보안을 해제한 원본을 받아 다시 저장해 주세요."
        )
    return flags, version


def _summary(ole: olefile.OleFileIO) -> dict[str, Any]:
    """Title, author … from HwpSummaryInformation; garbage yields what could be read, never an error.

    The property set is parsed here rather than with ``olefile.getproperties``: that one loops
    over a vector count read from the file (a damaged stream hangs it) and reads past the end
    of the UTF-16 strings Hancom writes.
    """
    try:
        data = _read_stream(ole, SUMMARY_STREAM)
    except (CorruptFileError, FileTooLargeError):
        return {}
    props = _property_set(data[:1 << 20])
    meta: dict[str, Any] = {}
    for pid, key in _SUMMARY_FIELDS.items():
        value = props.get(pid)
        if isinstance(value, str):
            value = "".join(ch if ch.isprintable() else " " for ch in value.split("\x00", 1)[0]).strip()
            if value:
                meta[key] = value
    for pid, key in _SUMMARY_DATES.items():
        value = props.get(pid)
        if isinstance(value, int) and value > 0:
            try:
                when = datetime(1601, 1, 1) + timedelta(microseconds=value // 10)
            except OverflowError:
                continue
            if 1980 <= when.year <= 2200:
                meta[key] = when.isoformat()
    return meta


def _property_set(data: bytes) -> dict[int, str | int]:
    """Strings (VT_LPWSTR, VT_LPSTR) and FILETIMEs of the first section of an OLE property set."""
    out: dict[int, str | int] = {}
    if len(data) < 48 or data[:2] != b"\xfe\xff":
        return out
    base = struct.unpack_from("<I", data, 44)[0]
    if base + 8 > len(data):
        return out
    count = min(struct.unpack_from("<I", data, base + 4)[0], 256, (len(data) - base - 8) // 8)
    for k in range(count):
        pid, off = struct.unpack_from("<II", data, base + 8 + 8 * k)
        at = base + off
        if at + 8 > len(data):
            continue
        vt, n = struct.unpack_from("<II", data, at)
        vt &= 0xFFFF
        if vt == 31:  # VT_LPWSTR: n characters (with the terminator)
            raw = data[at + 8 : at + 8 + min(n, 65536) * 2]
            out[pid] = raw[: len(raw) // 2 * 2].decode("utf-16-le", errors="replace")
        elif vt == 30:  # VT_LPSTR: n bytes in the ANSI code page (cp949 for Korean documents)
            out[pid] = data[at + 8 : at + 8 + min(n, 65536)].decode("cp949", errors="replace")
        elif vt == 64 and at + 12 <= len(data):  # VT_FILETIME
            out[pid] = struct.unpack_from("<Q", data, at + 4)[0]
    return out
