"""The two legs of hybrid search behind small protocols, and the factory that makes them.

:class:`~dasan.rag.retrieve.Retriever` asks :func:`lexical_index` and :func:`dense_index` for
its legs instead of constructing them: a store may keep a leg itself (PostgreSQL keeps the
dense one in pgvector: ``Store.dense_index``; a store could keep the lexical one the same way:
``Store.lexical_index``), else the embedded implementations are used (:class:`LexicalIndex`,
BM25 over Kiwi morphemes; :class:`DenseIndex`, int8 codes and an HNSW graph). What the
retriever needs of each is written down here; ``tests/test_index_contract.py`` runs every
implementation through the same behaviour (add, remove, search, filters applied before the
top-k cut, the same results as a full build).

A leg's state is immutable while it is searched: ``prepare`` (a full build) and ``append`` (new
rows added, removed rows tombstoned; optional) return a new state, ``publish`` makes it the
searched one. Rows are positions in the chunk list given to ``prepare`` followed by the rows
appended since; ``mask`` arguments are boolean arrays over those rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

Chunks = Sequence[tuple[str, str]]  # (chunk id, index text)
Progress = Callable[[int], None] | None


@runtime_checkable
class LexicalLeg(Protocol):
    """Keyword search: BM25 scores of every row for query tokens."""

    fingerprint: str  # of the chunk ids the published state holds ("" before the first build)
    bm25: Any  # the published :class:`~dasan.index.lexical.Bm25Matrix` (None before the first build)
    chunk_ids: Sequence[str]
    tokenizer: Callable[[str], list[str]]

    def prepare(self, chunks: Chunks, progress: Progress = None) -> LexicalLeg:
        """A new state over ``chunks`` (in row order), the published one untouched."""

    def append(self, chunks: Chunks, removed: Sequence[int], fingerprint: str) -> LexicalLeg:
        """A new state: ``chunks`` appended as new rows, the rows ``removed`` tombstoned."""

    def publish(self, new: LexicalLeg) -> None: ...

    def forget(self, chunk_ids: Sequence[str]) -> None:
        """Drop what is cached of chunks no longer stored."""

    def known_ids(self) -> set[str]:
        """Chunk ids whose tokens are cached (no need to fetch their texts for a build)."""

    def prewarm(self, chunks: Chunks) -> int:
        """Tokenise ``chunks`` into the cache ahead of a build (the server's ingestion worker,
        before its commit); safe beside searches. Returns how many were new."""

    def scores_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        """The score of every row (0 for tombstones and rows without a query token)."""


@runtime_checkable
class DenseLeg(Protocol):
    """Vector search: the nearest rows by cosine to an embedded query."""

    fingerprint: str
    embedder: Any

    @property
    def size(self) -> int: ...

    @property
    def ids(self) -> Any: ...

    def prepare(self, chunks: Chunks, progress: Progress = None) -> DenseLeg: ...

    def publish(self, new: DenseLeg) -> None: ...

    def missing(self, ids: Sequence[str]) -> set[str]:
        """The ``ids`` without a stored vector (those a build would embed)."""

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Exact float32 vectors of ``rows``."""

    def embed_query(self, query: str) -> np.ndarray: ...

    def search_vector(self, qvec: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest permitted rows as (row, cosine), best first; ``mask`` restricts the
        rows before the cut (fewer than ``k`` only when fewer are permitted)."""

    def close(self) -> None: ...


@runtime_checkable
class AppendableDenseLeg(DenseLeg, Protocol):
    """A dense leg that takes incremental updates (without it every change is a full build)."""

    def append(self, chunks: Chunks, removed: Sequence[int], fingerprint: str,
               progress: Progress = None) -> DenseLeg | None:
        """A new state with ``chunks`` appended and ``removed`` tombstoned; None: rebuild instead."""

    def forget(self, chunk_ids: Sequence[str]) -> None:
        """Drop the stored vectors of chunks no longer stored."""


def lexical_index(store: Any, index_dir: Path) -> LexicalLeg:
    """The lexical leg for ``store``: its own (``Store.lexical_index``) or the embedded BM25."""
    make = getattr(store, "lexical_index", None)
    if make is not None:
        return make(index_dir)
    from dasan.index.lexical import LexicalIndex

    return LexicalIndex(index_dir)


def dense_index(store: Any, index_dir: Path, embedder: Any) -> DenseLeg:
    """The dense leg for ``store``: its own (``Store.dense_index``: pgvector in PostgreSQL) or
    the embedded int8/HNSW index."""
    make = getattr(store, "dense_index", None)
    if make is not None:
        return make(index_dir, embedder)
    from dasan.index.dense import DenseIndex

    return DenseIndex(index_dir, embedder)
