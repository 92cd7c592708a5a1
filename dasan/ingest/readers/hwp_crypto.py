"""Decryption of HWP 5.0 distribution documents (배포용 문서).

Each ``ViewText/SectionN`` stream starts with a DISTRIBUTE_DOC_DATA record of 256 bytes.
Its first four bytes seed an MSVC ``rand()`` generator; the generator yields pairs
(xor byte, run length 1-16) that are XOR-ed over the block (the seed itself stays as is).
The decoded block holds the AES-128 key at offset ``4 + (seed & 0xF)``. The rest of the
stream is AES-128-ECB ciphertext; its plaintext is the usual (raw-deflated) record stream.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dasan.errors import CorruptFileError
from dasan.ingest.readers.hwp_records import DISTRIBUTE_DOC_DATA

_BLOCK = 256


def _msvc_rand(seed: int):
    while True:
        seed = (seed * 214013 + 2531011) & 0xFFFFFFFF
        yield (seed >> 16) & 0x7FFF


def distribution_key(block: bytes) -> bytes:
    """The AES key hidden in a 256-byte DISTRIBUTE_DOC_DATA payload."""
    if len(block) != _BLOCK:
        raise ValueError("DISTRIBUTE_DOC_DATA must be 256 bytes")
    seed = struct.unpack_from("<I", block, 0)[0]
    rand = _msvc_rand(seed)
    data = bytearray(block)
    key = run = 0
    for i in range(_BLOCK):
        if run == 0:
            key = next(rand) & 0xFF
            run = (next(rand) & 0xF) + 1
        if i >= 4:
            data[i] ^= key
        run -= 1
    offset = 4 + (data[0] & 0xF)
    return bytes(data[offset : offset + 16])


def decrypt_view_section(raw: bytes, stream: str) -> bytes:
    """Decrypt one ViewText section; returns the (possibly still compressed) record bytes."""
    if len(raw) < 4 + _BLOCK:
        raise CorruptFileError(f"배포용 문서의 '{stream}' 스트림이 너무 짧습니다 (손상된 파일).")
    header = struct.unpack_from("<I", raw, 0)[0]
    tag, size = header & 0x3FF, header >> 20
    if tag != DISTRIBUTE_DOC_DATA or size != _BLOCK:
        raise CorruptFileError(
            f"배포용 문서의 '{stream}' 스트림에 배포용 문서 정보가 없습니다 (손상되었거나 지원하지 않는 배포용 형식)."
        )
    key = distribution_key(raw[4 : 4 + _BLOCK])
    body = raw[4 + _BLOCK :]
    body = body[: len(body) - len(body) % 16]
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return decryptor.update(body) + decryptor.finalize()
