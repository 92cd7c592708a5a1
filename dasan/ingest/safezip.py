"""Defensive ZIP access for ZIP-based document formats (HWPX, DOCX, XLSX).

A ZIP can lie about itself (a zip bomb declares small sizes or expands a kilobyte into
gigabytes). :class:`SafeZip` refuses archives whose declared total is over
``config.MAX_UNZIPPED_BYTES`` or that hold too many members, and every read is bounded:
members are decompressed as a stream with a byte cap, a zip-wide budget and a
compression-ratio check, so memory stays bounded whatever the headers say.

Usage::

    with open_zip(data, label="HWPX") as zf:
        xml = zf.read("Contents/content.hpf", limit=4 * 1024 * 1024)
        with zf.open("Contents/section0.xml") as stream:  # bounded file object
            ...

Every failure is a :class:`~dasan.errors.CorruptFileError`,
:class:`~dasan.errors.EncryptedFileError` or :class:`~dasan.errors.FileTooLargeError`
with a Korean message.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from types import TracebackType

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError

#: Most members accepted in one archive.
MAX_MEMBERS = 20_000
#: Largest uncompressed/compressed ratio accepted once a member has produced RATIO_FLOOR bytes.
MAX_RATIO = 200
#: Output below this size is never judged by its ratio (small, very repetitive parts are normal).
RATIO_FLOOR = 4 * 1024 * 1024

_CHUNK = 64 * 1024
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError)


def _mb(n: int) -> str:
    return f"{n / 1048576:.0f} MB"


class _BoundedStream(io.RawIOBase):
    """A read-only stream over one member that enforces the size, budget and ratio limits."""

    def __init__(self, owner: SafeZip, info: zipfile.ZipInfo, limit: int) -> None:
        super().__init__()
        self._owner = owner
        self._info = info
        self._limit = limit
        self._count = 0
        self._raw: zipfile.ZipExtFile | None = None
        try:
            self._raw = owner._zf.open(info)
        except RuntimeError as e:  # "File is encrypted, password required"
            raise EncryptedFileError(owner._encrypted_message()) from e
        except NotImplementedError as e:
            raise CorruptFileError(
                f"{owner.label} 파일 안의 '{info.filename}'이(가) 지원하지 않는 방식으로 압축되어 있습니다. "
                "원래 프로그램에서 다시 저장해 주세요."
            ) from e
        except ZIP_ERRORS as e:
            raise owner._corrupt(info.filename, e) from e

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > _CHUNK:
            size = _CHUNK
        if self._raw is None:
            return b""
        try:
            data = self._raw.read(size)
        except RuntimeError as e:
            raise EncryptedFileError(self._owner._encrypted_message()) from e
        except (NotImplementedError, *ZIP_ERRORS) as e:
            raise self._owner._corrupt(self._info.filename, e) from e
        self._count += len(data)
        self._owner._charge(len(data))
        if self._count > self._limit:
            raise FileTooLargeError(
                f"{self._owner.label} 파일 안의 '{self._info.filename}'이(가) 너무 큽니다 "
                f"(압축을 풀면 {_mb(self._limit)} 초과). 파일을 나누거나 DASAN_MAX_UNZIPPED_BYTES 한도를 올리세요."
            )
        if self._count > RATIO_FLOOR and self._count > self._owner.max_ratio * max(self._info.compress_size, 1):
            raise FileTooLargeError(
                f"{self._owner.label} 파일 안의 '{self._info.filename}'의 압축률이 비정상적으로 높습니다 "
                f"({self._owner.max_ratio}:1 초과, ZIP 폭탄 의심). 신뢰할 수 있는 원본 파일을 사용하세요."
            )
        return data

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        super().close()


class SafeZip:
    """A read-only ZIP archive opened from bytes, with limits on what reading it may cost."""

    def __init__(
        self,
        data: bytes,
        *,
        label: str = "ZIP",
        max_members: int = MAX_MEMBERS,
        max_total: int | None = None,
        max_member: int | None = None,
        max_ratio: int = MAX_RATIO,
    ) -> None:
        self.label = label
        self.max_total = config.MAX_UNZIPPED_BYTES if max_total is None else max_total
        self.max_member = self.max_total if max_member is None else min(max_member, self.max_total)
        self.max_ratio = max_ratio
        self._used = 0
        try:
            self._zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zf.infolist()
        except (NotImplementedError, *ZIP_ERRORS) as e:  # NotImplementedError: "zip file version 25.5"
            raise CorruptFileError(
                f"{label} 파일이 손상되었습니다 (ZIP 구조를 읽을 수 없습니다: {e}). "
                "원래 프로그램에서 파일을 다시 저장하거나 원본을 다시 받아 주세요."
            ) from e
        if len(infos) > max_members:
            self._zf.close()
            raise FileTooLargeError(
                f"{label} 파일 안에 항목이 너무 많습니다 ({len(infos)}개 > {max_members}개). "
                "정상 문서가 아닐 수 있습니다."
            )
        declared = sum(i.file_size for i in infos)
        if declared > self.max_total:
            self._zf.close()
            raise FileTooLargeError(
                f"{label} 파일의 압축을 풀면 너무 큽니다 ({_mb(declared)} > {_mb(self.max_total)}, ZIP 폭탄 의심). "
                "파일을 나누거나 DASAN_MAX_UNZIPPED_BYTES 한도를 올리세요."
            )
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._lower: dict[str, str] = {}
        for info in infos:
            name = info.filename
            self._infos.setdefault(name, info)
            self._lower.setdefault(name.lower(), name)

    # -- lookup -------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def find(self, name: str) -> str | None:
        """The stored name matching ``name`` exactly, else case-insensitively, else ``None``."""
        name = name.lstrip("/")
        if name in self._infos:
            return name
        return self._lower.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def size(self, name: str) -> int:
        """Declared uncompressed size of a member."""
        return self._info(name).file_size

    def is_encrypted(self, name: str | None = None) -> bool:
        """Whether a member (or any member) uses ZIP-level encryption."""
        infos = [self._info(name)] if name else list(self._infos.values())
        return any(i.flag_bits & 0x1 for i in infos)

    # -- reading ------------------------------------------------------------------------

    def open(self, name: str, *, limit: int | None = None) -> io.BufferedReader:
        """A bounded, buffered stream over one member (close it, or use ``with``)."""
        info = self._info(name)
        cap = self.max_member if limit is None else min(limit, self.max_member)
        if info.file_size > cap:
            raise FileTooLargeError(
                f"{self.label} 파일 안의 '{info.filename}'이(가) 너무 큽니다 "
                f"({_mb(info.file_size)} > {_mb(cap)}). 파일을 나누거나 DASAN_MAX_UNZIPPED_BYTES 한도를 올리세요."
            )
        return io.BufferedReader(_BoundedStream(self, info, cap), buffer_size=_CHUNK)

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """The whole member, decompressed within the limits."""
        parts: list[bytes] = []
        with self.open(name, limit=limit) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _info(self, name: str) -> zipfile.ZipInfo:
        found = self.find(name)
        if found is None:
            raise CorruptFileError(f"{self.label} 파일에 '{name}' 항목이 없습니다. 파일이 손상되었을 수 있습니다.")
        return self._infos[found]

    def _charge(self, n: int) -> None:
        self._used += n
        if self._used > self.max_total:
            raise FileTooLargeError(
                f"{self.label} 파일의 압축을 푼 크기가 한도({_mb(self.max_total)})를 넘었습니다 (ZIP 폭탄 의심). "
                "파일을 나누거나 DASAN_MAX_UNZIPPED_BYTES 한도를 올리세요."
            )

    def _corrupt(self, name: str, err: BaseException) -> CorruptFileError:
        return CorruptFileError(
            f"{self.label} 파일 안의 '{name}'을(를) 읽을 수 없습니다 ({type(err).__name__}: {err}). "
            "파일이 손상되었거나 잘렸습니다. 원본 파일을 다시 받아 주세요."
        )

    def _encrypted_message(self) -> str:
        return f"암호가 걸린 {self.label} 파일입니다. 암호를 해제한 뒤 다시 저장해 주세요."


def open_zip(
    data: bytes,
    *,
    label: str = "ZIP",
    max_members: int = MAX_MEMBERS,
    max_total: int | None = None,
    max_member: int | None = None,
    max_ratio: int = MAX_RATIO,
) -> SafeZip:
    """Open ``data`` as a :class:`SafeZip` (``max_total`` defaults to ``config.MAX_UNZIPPED_BYTES``)."""
    return SafeZip(
        data, label=label, max_members=max_members, max_total=max_total, max_member=max_member, max_ratio=max_ratio
    )
