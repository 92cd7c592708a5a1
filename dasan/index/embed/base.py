"""The dense embedder interface shared by every embedding backend.

An embedder turns texts into float32, L2-normalised vectors of a fixed dimension, so a dot
product is the cosine similarity. Models trained with asymmetric prefixes (e5: ``query: `` /
``passage: ``) apply them inside ``embed_queries`` / ``embed_passages``; callers pass raw text.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    name: str  # model name, e.g. "multilingual-e5-small"; part of cache keys
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Documents to index -> float32 (n, dim), rows L2-normalised."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Search queries -> float32 (n, dim), rows L2-normalised."""
        ...


def empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation as float32; all-zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32, copy=False)


def clean_text(text: str) -> str:
    """Make any str safe to encode: NULs dropped, lone surrogates replaced."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
