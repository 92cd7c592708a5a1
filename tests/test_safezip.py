"""SafeZip: bounded, typed-error access to ZIP members."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError
from dasan.ingest.safezip import MAX_RATIO, RATIO_FLOOR, SafeZip, open_zip


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _patch_central_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size a central-directory entry declares for ``name``."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + name_len] == name.encode():
            struct.pack_into("<I", out, pos + 24, size)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{name} not in central directory")


def test_reads_members_and_finds_names_case_insensitively() -> None:
    data = _zip({"Contents/section0.xml": b"<a/>", "mimetype": b"application/hwp+zip"})
    with open_zip(data, label="HWPX") as zf:
        assert set(zf.names) == {"Contents/section0.xml", "mimetype"}
        assert zf.find("contents/SECTION0.xml") == "Contents/section0.xml"
        assert "mimetype" in zf
        assert zf.read("mimetype") == b"application/hwp+zip"
        assert zf.size("Contents/section0.xml") == 4
        with zf.open("Contents/section0.xml") as stream:
            assert stream.read() == b"<a/>"


def test_missing_member_is_corrupt() -> None:
    with open_zip(_zip({"a": b"1"})) as zf, pytest.raises(CorruptFileError, match="항목이 없습니다"):
        zf.read("b")


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04garbage", b"\x00" * 100, bytes(range(256)) * 4])
def test_not_a_zip_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptFileError, match="손상"):
        SafeZip(data, label="DOCX")


def test_truncated_zip_is_corrupt() -> None:
    data = _zip({"a.xml": b"<x>" + b"y" * 5000 + b"</x>"})
    with pytest.raises(CorruptFileError):
        SafeZip(data[: len(data) // 2])


def test_damaged_member_data_is_corrupt() -> None:
    payload = bytes(range(256)) * 64
    data = bytearray(_zip({"a.bin": payload}))
    start = data.find(b"a.bin") + len("a.bin")  # first bytes of the compressed stream
    for i in range(start + 10, start + 60):
        data[i] ^= 0xFF
    with open_zip(bytes(data)) as zf, pytest.raises(CorruptFileError):
        zf.read("a.bin")


def test_declared_total_over_limit_is_refused_at_open() -> None:
    data = _patch_central_size(_zip({"big.xml": b"<x/>"}), "big.xml", 2_000_000_000)
    t0 = time.perf_counter()
    with pytest.raises(FileTooLargeError, match="ZIP 폭탄"):
        SafeZip(data)
    assert time.perf_counter() - t0 < 1


def test_lying_small_declared_size_cannot_expand() -> None:
    # The header says 10 bytes; the stream holds 1 MB. Reading stops at the declared size.
    data = _patch_central_size(_zip({"x": b"a" * 1_000_000}), "x", 10)
    with open_zip(data) as zf, pytest.raises(CorruptFileError):
        zf.read("x")


def test_member_limit_and_total_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip({"a": b"a" * 50_000, "b": b"b" * 50_000})
    with open_zip(data, max_member=10_000) as zf, pytest.raises(FileTooLargeError, match="너무 큽니다"):
        zf.read("a")
    with open_zip(data) as zf, pytest.raises(FileTooLargeError):
        zf.read("a", limit=1000)
    monkeypatch.setattr(config, "MAX_UNZIPPED_BYTES", 60_000)
    with pytest.raises(FileTooLargeError, match="DASAN_MAX_UNZIPPED_BYTES"):
        SafeZip(data)


def test_too_many_members() -> None:
    data = _zip({f"f{i}": b"" for i in range(30)})
    with pytest.raises(FileTooLargeError, match="항목이 너무 많습니다"):
        SafeZip(data, max_members=20)


def test_compression_ratio_bomb_stops_early() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros", "w") as w:
        chunk = b"\x00" * (1 << 20)
        for _ in range(32):  # 32 MB of zeros, about 32 KB compressed
            w.write(chunk)
    data = buf.getvalue()
    assert len(data) < 200_000
    with open_zip(data) as zf, zf.open("zeros") as stream:
        compressed = zipfile.ZipFile(io.BytesIO(data)).getinfo("zeros").compress_size
        read = 0
        with pytest.raises(FileTooLargeError, match="압축률"):
            while chunk := stream.read(65536):
                read += len(chunk)
        # Stopped once past the ratio, long before the 32 MB the member holds.
        assert read <= max(RATIO_FLOOR, MAX_RATIO * compressed) + (1 << 20)
        assert read < 20 * (1 << 20)


def test_zip_level_encryption_is_reported() -> None:
    data = bytearray(_zip({"a.xml": b"<a/>"}, compression=zipfile.ZIP_STORED))
    # Set the "encrypted" flag bit in both headers.
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(sig)
        flags = struct.unpack_from("<H", data, pos + off)[0]
        struct.pack_into("<H", data, pos + off, flags | 1)
    with open_zip(bytes(data), label="DOCX") as zf:
        assert zf.is_encrypted()
        with pytest.raises(EncryptedFileError, match="암호"):
            zf.read("a.xml")
