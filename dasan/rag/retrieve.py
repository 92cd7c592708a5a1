"""Hybrid search over the store: Kiwi BM25 + dense embeddings, fused, one hit per article.

Filters become one boolean mask over the indexed chunks, applied inside each leg before its
top-k cut, so a filtered-out chunk can never push a permitted one out of the results.

Beyond the two legs:

- priors: 부칙 (supplementary provisions: commencement dates, transitional rules) rarely answer
  a question and are down-weighted;
- a statute the question names boosts that statute family in both legs;
- a quoted term boosts chunks containing it literally (definitions are written `"용어"란`);
- chunks of the same article are collapsed into the best one.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

from dasan.index.fusion import adaptive_alpha, convex, rrf
from dasan.index.legs import AppendableDenseLeg, dense_index, lexical_index
from dasan.index.lexical import LexicalIndex, top_k
from dasan.korean.legal_terms import Expansion, default_thesaurus
from dasan.korean.tokenize import kiwi
from dasan.rag.answer_type import expected_types, states_value
from dasan.rag.asking import frame_long
from dasan.rag.query import QueryInfo, StatuteCatalog, is_penalty_title, statute_family
from dasan.security.levels import EMBARGO_LEVEL, KST, embargo_ts, level_rank  # noqa: F401 (KST, embargo_ts re-exported)
from dasan.store.base import Store
from dasan.types import LEVELS, Chunk, Hit, IndexRow, article_key

Mode = Literal["hybrid", "lexical", "dense"]
FLOOR_SAMPLE = 4096  # rows whose cosines estimate the dense floor
Ranked = tuple[int, float, dict[str, float]]  # (row, score, per-leg scores)
_log = logging.getLogger("dasan.search")


@dataclass
class SearchFilter:
    """Restrictions applied inside every leg before its top-k cut.

    ``date_from``/``date_to`` (ISO dates) bound a chunk's date: a statute's 시행일자, a press
    release's 보도일; chunks without a date are excluded when a bound is given. ``in_force``
    keeps statutes whose 시행일자 has passed (non-statute chunks are kept). ``max_level`` keeps
    chunks at or below a classification level.
    """

    collection: str | None = None
    kinds: tuple[str, ...] | None = None
    date_from: str | None = None
    date_to: str | None = None
    in_force: bool = False
    max_level: str | None = None
    collections: frozenset[str] | None = None  # the caller's permitted collections (None: all)

    def is_empty(self) -> bool:
        return not (self.collection or self.kinds or self.date_from or self.date_to or self.in_force
                    or self.max_level or self.collections is not None)


def default_embedder() -> str | None:
    """``DASAN_EMBEDDER`` (``e5`` when unset; ``none``: lexical search only)."""
    from dasan import settings

    name = (settings.get("DASAN_EMBEDDER") or "e5").strip().lower()
    return None if name in ("none", "off", "") else name


@dataclass
class RetrievalConfig:
    embedder: str | None = field(default_factory=lambda: default_embedder())  # None: lexical only
    depth: int = 60  # candidates taken from each leg before fusion
    # "adaptive": convex fusion whose BM25 share is ``lexical_weight`` moved per question by the
    # best lexical candidate's coverage of the question and by its length (dasan/index/fusion.py);
    # "convex": the fixed share ``lexical_weight``; "rrf": reciprocal-rank fusion.
    fusion: Literal["adaptive", "convex", "rrf"] = "adaptive"
    lexical_weight: float = 0.4  # share of the (max-normalised) BM25 score
    coverage_gain: float = 0.2
    length_gain: float = 0.5
    k0: float = 60.0  # rrf constant
    weights: dict[str, float] = field(default_factory=lambda: {"bm25": 1.0, "dense": 1.0})  # rrf weights
    addendum_prior: float = 0.5
    family_boost: float = 1.5
    # A question asking for a kind of value ("며칠", "얼마", "몇 살") favours, among the best
    # ``value_depth`` fused candidates, chunks that state a value of that kind.
    value_boost: float = 1.3
    value_depth: int = 20
    penalty_boost: float = 1.3  # penalty articles (벌칙·과태료·양벌규정) for a question about sanctions
    phrase_boost: float = 2.0
    dense_boost_scale: float = 0.1  # cosine bonus per unit of log-boost in the dense leg
    expand_terms: bool = True  # add statute vocabulary for everyday words (dasan/korean/legal_terms.py)
    expansion_weight: float = 0.5  # BM25 weight of an added legal term relative to the question's own
    expand_dense: bool = True  # also append the legal terms to the text the dense leg embeds
    collapse_articles: bool = True
    # Learned final ranking (dasan/learn): "current" = the model chosen with `dasan models use`
    # in this data directory (none chosen: no learned stage), None = never, else a model name.
    model: str | None = "current"
    # Long situational questions (dasan/rag/asking.py): from ``asking_min_chars`` characters on,
    # the asking part's tokens weigh ``asking_weight`` in BM25 (the situation's 1), and the dense
    # leg embeds at most ``dense_chars`` characters: the asking part and the nearest situation.
    asking_min_chars: int = 120
    asking_weight: float = 2.0
    dense_chars: int = 120  # ≈ 80 e5 tokens


class _SnapField:
    """A read-only attribute of the retriever that reads the current :class:`Snapshot`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._cur(), self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"{self.name} belongs to the published snapshot: build and publish a new one")


@dataclass(eq=False)
class Snapshot:
    """One complete index state: chunk ids, both legs' states and every per-row column.

    Built off the request path and never changed once published (the one exception is the
    lazily built ``row`` lookup, a cache of ``ids``/``live``); a publication replaces the
    retriever's reference to it in one assignment, so a search holding a snapshot reads one
    consistent state — ids, access columns and legs of the same build — however many builds
    are published meanwhile."""

    gen: int = -1  # the store generation it was built from
    fp: str = ""  # fingerprint of the live chunk ids
    feed: tuple[str, int] | None = None  # the store's change feed it includes (identity, entry)
    lexical: Any = None  # the lexical leg's state (LexicalLeg)
    dense: Any = None  # the dense leg's state (DenseLeg; None: none built yet)
    ids: Any = field(default_factory=list)  # per row: chunk id
    levels: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int8))  # per row: effective level (chunk's and collection's)
    embargo: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.float64))  # per row: embargo end (epoch seconds, 0: none)
    collections: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=object))
    kinds: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=object))
    family_code: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int32))
    family_index: dict[str, int] = field(default_factory=dict)
    family: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=object))
    catalog: StatuteCatalog = field(default_factory=lambda: StatuteCatalog({}))
    penal: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=bool))
    dates: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int32))
    repealed: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=bool))
    group: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int32))  # per row: article group (one hit per group)
    article: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=object))  # per row: statute article key ("" for other kinds)
    article_row: dict[str, int] = field(default_factory=dict)  # article key → its first row
    doc: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int32))  # per row: document code
    doc_ids: Any = None  # document code → document id
    doc_code: dict[str, int] | None = None  # document id → its (latest) code
    live: np.ndarray | None = None  # per row: not tombstoned (None: no tombstones)
    store_order: bool = True  # index rows in store order (a full build): store row = index row
    prior: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.float32))
    floor_rows: np.ndarray = field(default_factory=partial(np.zeros, 0, dtype=np.int64))
    floor_matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), dtype=np.float32))
    _row_of: dict[str, int] | None = field(default=None, repr=False)

    def row(self, chunk_id: str) -> int | None:
        """The live row of a chunk (None: not in this state)."""
        row_of = self._row_of
        if row_of is None:
            live = self.live
            row_of = self._row_of = {cid: i for i, cid in enumerate(self.ids) if live is None or live[i]}
        return row_of.get(chunk_id)


class Retriever:
    REFRESH_RETRY_S = 5.0  # a failed refresh is retried at most this often (not on every request)
    INCREMENTAL_SHARE = 0.1  # a change of more chunks than this share of the store is rebuilt in full
    COMPACT_SHARE = 0.2  # tombstones or appended rows past this share of the rows: rebuilt in full
    FEED_LIMIT = 50_000  # change-feed entries read at most per build (more: every row is read)

    def __init__(self, store: Store, data_dir: Path, config: RetrievalConfig | None = None, *,
                 models_home: Path | None = None) -> None:
        """``models_home``: the data directory whose ``models/`` holds learned models (default
        ``data_dir``)."""
        self.store = store
        self.config = config or RetrievalConfig()
        self.index_dir = data_dir / "index"
        # The one published index state; searches read it through _cur() (see Snapshot).
        self._snap = Snapshot(lexical=lexical_index(store, self.index_dir))
        self._pins = threading.local()  # per thread: the snapshot a search or answer is pinned to
        self._dense = None  # the dense leg before the first build (its states live in snapshots)
        self.timings_ms: dict[str, float] = {}
        self.last_expansion: Expansion | None = None
        self.ranker_override = None  # a LearnedRanker set explicitly (benchmarks); None: by config
        self._selection = None
        self.last_refresh_error: str | None = None  # why the latest refresh failed (None: it did not)
        self._retry_at = 0.0  # after a failed refresh, the next attempt waits until then
        self._models_home = models_home or data_dir
        self.last_build = ""  # "full", "incremental" or "access": what the latest build did
        self.last_diff = ""  # how it found the changes: "feed" (the store's change feed) or "rows" (every row)
        self.feed_fallback: str | None = None  # why the latest build did not use the feed
        self.build_ms: dict[str, float] = {}  # the latest build's phases (milliseconds)

    # -- the published snapshot and pinning ------------------------------------------------
    # Every per-row column below reads the snapshot of the calling thread's pin, else the
    # published one; none can be assigned (a state changes only by publishing a new snapshot).
    _ids = _SnapField("ids")
    _fp = _SnapField("fp")
    _generation = _SnapField("gen")
    _feed = _SnapField("feed")
    _levels = _SnapField("levels")
    _embargo = _SnapField("embargo")
    _collections = _SnapField("collections")
    _kinds = _SnapField("kinds")
    _family_code = _SnapField("family_code")
    _family_index = _SnapField("family_index")
    _family = _SnapField("family")
    catalog = _SnapField("catalog")
    _penal = _SnapField("penal")
    _dates = _SnapField("dates")
    _repealed = _SnapField("repealed")
    _group = _SnapField("group")
    _article = _SnapField("article")
    _article_row = _SnapField("article_row")
    _doc = _SnapField("doc")
    _doc_ids = _SnapField("doc_ids")
    _doc_code = _SnapField("doc_code")
    _live = _SnapField("live")
    _store_order = _SnapField("store_order")
    _prior = _SnapField("prior")
    _floor_rows = _SnapField("floor_rows")
    _floor_matrix = _SnapField("floor_matrix")

    def _cur(self) -> Snapshot:
        """The snapshot this thread is pinned to, else the published one."""
        pin = getattr(self._pins, "snap", None)
        return self._snap if pin is None else pin

    def is_pinned(self) -> bool:
        return getattr(self._pins, "snap", None) is not None

    @property
    def snapshot(self) -> Snapshot:
        """The published index state (one reference: a publication replaces it whole)."""
        return self._snap

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Snapshot]:
        """Pin one snapshot for this thread until the block ends: every search, article
        expansion and level check inside reads that state, however many states are published
        meanwhile, so permissions are judged on the rows being returned. Reentrant; the store is
        brought in step first (:meth:`_before_pin`). Not to be held across a generator's
        ``yield`` (the pin belongs to the thread)."""
        if self.is_pinned():
            yield self._cur()
            return
        self._before_pin()
        with self._pin(self._snap) as snap:
            self._pins.hidden = self._pin_hidden(snap)
            yield snap

    @contextlib.contextmanager
    def _pin(self, snap: Snapshot) -> Iterator[Snapshot]:
        self._pins.snap = snap
        try:
            yield snap
        finally:
            self._pins.snap = None
            self._pins.hidden = None

    def _before_pin(self) -> None:
        """What happens before a search pins its snapshot: here, a refresh when the store
        changed (a server's retriever builds in the background instead)."""
        self.refresh()

    def _pin_hidden(self, snap: Snapshot) -> np.ndarray | None:
        """Rows of ``snap`` a pinned search must not see beyond its tombstones (None: none)."""
        return None

    @property
    def lexical(self):
        return self._cur().lexical

    @property
    def dense(self):
        d = self._cur().dense
        if d is not None:
            return d
        if self._dense is None and self.config.embedder:
            from dasan.index.embed import get_embedder

            emb = get_embedder(self.config.embedder, cache_dir=self.index_dir / "embed-cache")
            # a store may keep the dense leg itself (PostgreSQL: pgvector), same protocol
            self._dense = dense_index(self.store, self.index_dir, emb)
        return self._dense

    @staticmethod
    def index_text(row: IndexRow | Chunk) -> str:
        """The text both legs index: the chunk's context (headings, article title) and its text."""
        return f"{row.context}\n{row.text}" if row.context else row.text

    def refresh(self, progress=None) -> None:
        """Bring every leg in step with the store (only new chunks are processed).

        All-or-nothing: :meth:`build` makes a complete new state (both legs and every per-row
        column) without touching the one searches use, :meth:`publish` swaps it in, generation
        last. If the build fails (an embedding server down, out of memory), the previous state
        keeps serving, the error is kept in :attr:`last_refresh_error` (and logged), and the
        next call tries again after ``REFRESH_RETRY_S``."""
        if self.is_pinned() or not self.refresh_due():
            return  # a pinned search keeps its state to the end
        built = self.try_build(progress)
        if built is not None:
            self.publish(built)

    def refresh_due(self) -> bool:
        """The store changed since the index was built (and no failed refresh is backing off)."""
        return self.store.generation() != self._generation and time.monotonic() >= self._retry_at

    def try_build(self, progress=None) -> _Built | None:
        """:meth:`build`, with a failure recorded instead of raised (None) — except on the first
        build, when there is nothing to keep serving."""
        try:
            built = self.build(progress)
        except Exception as e:
            self.last_refresh_error = f"{type(e).__name__}: {e}"[:500]
            self._retry_at = time.monotonic() + self.REFRESH_RETRY_S
            _log.exception("index refresh failed; the previous index keeps serving")
            if not len(self._ids) and self._generation < 0:
                raise
            return None
        self.last_refresh_error = None
        self._retry_at = 0.0
        return built

    def build(self, progress=None) -> _Built:
        """:meth:`_build` reading the published state as one snapshot throughout."""
        if self.is_pinned():
            return self._build(progress)
        with self._pin(self._snap):
            return self._build(progress)

    def _build(self, progress=None) -> _Built:
        """A complete new index state for the store as it is now (nothing published).

        Which chunks changed comes from the store's change feed (:meth:`_build_from_feed`: only
        the rows of the documents named since the last build are read) when the feed can be
        trusted, else from every row of the store. Then the current state with the new chunks
        appended and the removed ones tombstoned (:meth:`_apply_changes`) when that is
        possible, else a full rebuild."""
        t0 = time.perf_counter()
        gen = self.store.generation()
        self.build_ms = {}
        self.feed_fallback = None
        built = self._build_from_feed(gen, progress)
        if built is not None:
            self.last_diff = "feed"
            return built
        self.last_diff = "rows"
        t0 = time.perf_counter()
        feed = self._feed_position()  # before the rows: a change after it is applied again (no harm)
        rows = self.store.index_rows(with_text=False)  # texts only for chunks new to an index (below)
        ids = [r.id for r in rows]
        fp = LexicalIndex.fingerprint_of(ids)
        self.build_ms["rows"] = (time.perf_counter() - t0) * 1000
        if fp == self._fp:  # levels can change without any chunk changing
            self.last_build = "access"
            return _Built(gen, fp, self._access_columns(rows, self._store_rows_of(ids), len(self._ids)), feed=feed)
        built = self._build_incremental(gen, fp, rows, ids, progress)
        if built is not None:
            self.last_build = "incremental"
            built.feed = feed
            return built
        self.last_build = "full"
        access = self._access_columns(rows)
        need = set(ids) if rows and rows[0].text is None else set()
        if need:
            need -= self.lexical.known_ids()
            if self.dense is not None:
                need |= self.dense.missing(ids)
        if len(need) > len(ids) // 10:
            texts = {r.id: self.index_text(r) for r in self.store.index_rows() if r.id in need}
        else:
            texts = {c.id: self.index_text(c) for c in self.store.get_chunks(list(need))}
        pairs = [(i, texts.get(i, "")) for i in ids] if need else [(r.id, self.index_text(r)) for r in rows]
        del texts, need
        lexical = self.lexical.prepare(pairs, progress=progress)
        dense = self.dense.prepare(pairs, progress=progress) if self.dense is not None else None
        del pairs
        # Compact per-row columns: ids packed in one buffer (shared with the lexical index),
        # strings shared per distinct value, dates and article groups as integers, no per-row dicts.
        from dasan.index.columns import IdList

        c: dict[str, Any] = {"ids": dense.ids if dense is not None else IdList(ids)}
        del ids
        docs: dict[str, int] = {}
        c["family_index"] = {}
        c["article_row"] = {}
        c.update(self._row_columns(rows, 0, c["family_index"], c["article_row"], 0, docs))
        c["doc_ids"] = IdList(docs)
        c["doc_code"] = docs
        c["live"], c["store_order"] = None, True
        n = len(rows)
        del docs, rows
        c["floor_rows"], c["floor_matrix"] = self._floor_rows, self._floor_matrix
        if dense is not None:
            floor_rows = np.arange(n) if n <= FLOOR_SAMPLE else \
                np.sort(np.random.default_rng(0).choice(n, FLOOR_SAMPLE, replace=False))
            c["floor_rows"], c["floor_matrix"] = floor_rows, dense.vectors(floor_rows)  # exact float32 sample
        return _Built(gen, fp, access, c, lexical, dense, feed)

    def _lap(self, name: str, since: float) -> float:
        """Record the milliseconds of a build phase in :attr:`build_ms`; returns now."""
        now = time.perf_counter()
        self.build_ms[name] = (now - since) * 1000
        return now

    def _feed_position(self) -> tuple[str, int] | None:
        """The store's change feed now (identity, last entry); None: the store keeps none."""
        changes_since = getattr(self.store, "changes_since", None)
        if changes_since is None:
            return None
        ch = changes_since(0, limit=0)
        return ch.epoch, ch.head

    def _store_rows_of(self, ids: list[str]) -> np.ndarray | None:
        """Index row of each of the store's chunks ``ids`` (in store order); None when the
        index rows are in store order (a full build)."""
        if self._store_order:
            return None
        live = self._live
        row_of = {cid: i for i, cid in enumerate(self._ids) if live is None or live[i]}
        return np.fromiter((row_of.get(cid, -1) for cid in ids), dtype=np.int64, count=len(ids))

    def _appendable(self) -> bool:
        """Whether the published state can take appended rows and tombstones (both legs in step
        with the columns, and a dense leg that appends; a store's own vector index does not)."""
        n0 = len(self._ids)
        bm, dense = self.lexical.bm25, self.dense
        return not (not n0 or bm is None or bm.n != n0 or self._doc_ids is None or self._doc_code is None
                    or self.lexical.fingerprint != self._fp
                    or (dense is not None and (dense.size != n0 or dense.fingerprint != self._fp
                                               or not isinstance(dense, AppendableDenseLeg))))

    def _too_large(self, added: int, removed: int) -> bool:
        """A change of this many rows is rebuilt in full: past ``INCREMENTAL_SHARE`` of the live
        chunks, or tombstones or appended rows past ``COMPACT_SHARE`` of the rows."""
        bm = self.lexical.bm25
        n0 = len(self._ids)
        total = n0 + added
        live_after = bm.n_live - removed + added
        dead = (n0 - bm.n_live) + removed
        return (added + removed > self.INCREMENTAL_SHARE * max(live_after, 1)
                or dead > self.COMPACT_SHARE * total or bm.delta_rows + added > self.COMPACT_SHARE * total)

    def _build_from_feed(self, gen: int, progress=None) -> _Built | None:
        """The next state from the store's change feed: only the rows of the documents named in
        the entries after the last one applied (and of every document of a collection whose level
        changed) are read. A document whose chunks are the ones indexed gets its access columns
        (level, embargo, collection) rewritten in place; one whose chunks changed has its rows
        tombstoned and its current chunks appended. None (the caller reads every row instead)
        when the feed cannot be trusted — none kept, another store's (identity), a gap or an
        entry pruned (:meth:`Changes.complete`), the generation behind ours — or when chunks
        changed and the state cannot be appended to or the change is large (a full rebuild is
        due). Chunk ids are content hashes: a chunk whose id is unchanged is taken to have the
        same text (only its access columns are rewritten)."""
        changes_since = getattr(self.store, "changes_since", None)
        pos = self._feed
        if changes_since is None or pos is None:
            self.feed_fallback = "no feed"
            return None
        if not len(self._ids) or self._doc_code is None:
            self.feed_fallback = "state"
            return None
        t = time.perf_counter()
        ch = changes_since(pos[1], limit=self.FEED_LIMIT)
        if ch.epoch != pos[0]:
            self.feed_fallback = "epoch"
            return None
        if not ch.complete(pos[1]):
            self.feed_fallback = ("pruned" if pos[1] < ch.floor else
                                  "limit" if len(ch.entries) >= self.FEED_LIMIT else "gap")
            return None
        if gen < self._generation:
            self.feed_fallback = "generation"
            return None
        docs = {e.document_id for e in ch.entries if e.document_id is not None}
        colls = sorted({e.collection for e in ch.entries if e.collection is not None})
        live0 = self._live
        if colls:  # the documents indexed in a collection whose level changed (the store's: below)
            sel = np.isin(self._collections, colls)
            if live0 is not None:
                sel &= live0
            doc_ids = self._doc_ids
            docs.update(doc_ids[int(code)] for code in np.unique(self._doc[sel]))
        rows = self.store.index_rows_of(sorted(docs), colls) if docs or colls else []
        t = self._lap("feed", t)
        stored: dict[str, list[Any]] = {}
        for r in rows:
            stored.setdefault(r.document_id, []).append(r)
        docs.update(stored)
        # the live index rows of those documents, per document, in row (= ordinal) order
        codes = {d: self._doc_code[d] for d in docs if d in self._doc_code}
        indexed: dict[str, np.ndarray] = {}
        if codes:
            sel = np.isin(self._doc, np.fromiter(codes.values(), dtype=np.int64, count=len(codes)))
            if live0 is not None:
                sel &= live0
            at = np.flatnonzero(sel)
            at = at[np.argsort(self._doc[at], kind="stable")]
            doc_of = {c: d for d, c in codes.items()}
            bounds = np.flatnonzero(np.diff(self._doc[at])) + 1
            for part in np.split(at, bounds) if at.size else []:
                indexed[doc_of[int(self._doc[part[0]])]] = part
        ids = self._ids
        removed: list[int] = []
        new_rows: list[Any] = []
        kept_rows: list[Any] = []
        kept_at: list[int] = []
        for d in sorted(docs):  # new rows in store order (document id, ordinal)
            now = stored.get(d, [])
            had = indexed.get(d, np.zeros(0, dtype=np.int64))
            if len(had) == len(now) and all(ids[int(i)] == r.id for i, r in zip(had, now, strict=True)):
                kept_rows += now
                kept_at += had.tolist()
            else:
                removed += had.tolist()
                new_rows += now
        t = self._lap("diff", t)
        if not new_rows and not removed:  # levels, embargoes or collections only (or nothing)
            self.last_build = "access"
            n = len(ids)
            access = self._patched_access(n, [], kept_rows, np.asarray(kept_at, dtype=np.int64))
            self._lap("access", t)
            return _Built(gen, self._fp, access, feed=(ch.epoch, ch.head))
        if not self._appendable():  # e.g. a store's own dense leg: changed chunks mean a rebuild
            self.feed_fallback = "state"
            return None
        if self._too_large(len(new_rows), len(removed)):
            self.feed_fallback = "large"
            return None
        n0 = len(ids)
        at = np.concatenate([np.asarray(kept_at, dtype=np.int64), np.arange(n0, n0 + len(new_rows))])
        built = self._apply_changes(gen, None, new_rows, np.asarray(sorted(removed), dtype=np.int64),
                                    lambda total: self._patched_access(total, removed, kept_rows + new_rows, at),
                                    progress)
        if built is None:
            self.feed_fallback = "append"
            return None
        self.last_build = "incremental"
        built.feed = (ch.epoch, ch.head)
        return built

    def _patched_access(self, total: int, removed: list[int], rows: list[Any],
                        at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The current access columns (copies) grown to ``total`` rows (new rows start as
        tombstones: a level nobody holds, see :meth:`_access_columns`), the rows ``removed``
        made tombstones, then the index rows ``at`` given the values of the store's ``rows``."""
        n0 = len(self._ids)
        lv = np.full(total, np.iinfo(np.int8).max, dtype=np.int8)
        em = np.zeros(total, dtype=np.float64)
        co = np.full(total, "", dtype=object)
        lv[:n0], em[:n0], co[:n0] = self._levels, self._embargo, self._collections
        if removed:
            gone = np.asarray(removed, dtype=np.int64)
            lv[gone], em[gone], co[gone] = np.iinfo(np.int8).max, 0.0, ""
        if rows:
            lv[at], em[at], co[at] = self._access_columns(rows)
        return lv, em, co

    def _build_incremental(self, gen: int, fp: str, rows, ids: list[str], progress=None) -> _Built | None:
        """From every row of the store: the chunks not indexed are appended, the indexed ones no
        longer stored are tombstoned (:meth:`_apply_changes`). None when a full rebuild is due
        instead: nothing built yet, the legs out of step, a large change (``INCREMENTAL_SHARE``
        of the chunks), or tombstones or appended rows past ``COMPACT_SHARE`` of the rows
        (compaction = a rebuild, built off the request path and published like any other state)."""
        t = time.perf_counter()
        if not self._appendable():
            return None
        n0 = len(self._ids)
        live0 = self._live
        row_of = {cid: i for i, cid in enumerate(self._ids) if live0 is None or live0[i]}
        store_ids = set(ids)
        if len(store_ids) != len(ids):
            return None
        added = [i for i, cid in enumerate(ids) if cid not in row_of]
        removed = np.array(sorted(row for cid, row in row_of.items() if cid not in store_ids), dtype=np.int64)
        if self._too_large(len(added), len(removed)):
            return None
        new_rows = [rows[i] for i in added]
        doc_code = self._doc_code
        live = np.ones(n0, dtype=bool) if live0 is None else live0.copy()
        live[removed] = False
        live_codes = set(np.unique(self._doc[live]).tolist())
        live_docs = {d for d, code in doc_code.items() if code in live_codes}
        if any(r.document_id in live_docs for r in new_rows):  # a document's rows stay one block
            return None
        store_rows = np.fromiter((row_of.get(cid, -1) for cid in ids), dtype=np.int64, count=len(ids))
        store_rows[added] = np.arange(n0, n0 + len(added))
        del row_of, store_ids
        self._lap("diff", t)
        return self._apply_changes(gen, fp, new_rows, removed,
                                   lambda total: self._access_columns(rows, store_rows, total), progress)

    def _apply_changes(self, gen: int, fp: str | None, new_rows: list[Any], removed: np.ndarray, access,
                       progress=None) -> _Built | None:
        """The current state with ``new_rows`` (store rows) appended as new rows (tokenised and
        embedded once) and the rows ``removed`` tombstoned: row numbers never move, so every
        column is the old one plus a tail. ``access(total)``: the access columns of the result.
        ``fp``: the fingerprint of the result (None: computed from its live rows). None when the
        store changed meanwhile or the dense leg cannot append."""
        t = time.perf_counter()
        n0 = len(self._ids)
        total = n0 + len(new_rows)
        live = np.ones(total, dtype=bool)
        if self._live is not None:
            live[:n0] = self._live
        live[removed] = False
        add_ids = [r.id for r in new_rows]
        texts = {c.id: self.index_text(c) for c in self.store.get_chunks(add_ids)}
        if len(texts) != len(add_ids):  # the store changed meanwhile
            return None
        pairs = [(cid, texts[cid]) for cid in add_ids]
        del texts
        t = self._lap("texts", t)
        dense = self.dense
        lexical = self.lexical.append(pairs, removed, fp or "")
        t = self._lap("lexical", t)
        dense_new = None
        if dense is not None:
            dense_new = dense.append(pairs, removed, fp or "", progress)
            if dense_new is None:
                return None
        t = self._lap("dense", t)
        docs: dict[str, int] = {}
        doc_ids = self._doc_ids
        family_index = dict(self._family_index)
        article_row = dict(self._article_row)
        old_article = self._article
        gone_rows = set(removed.tolist())
        for art in {old_article[r] for r in gone_rows} - {""}:  # an article whose first row went
            if article_row.get(art) in gone_rows:
                del article_row[art]
                rest = np.flatnonzero((old_article == art) & live[:n0])
                if rest.size:
                    article_row[art] = int(rest[0])
        tail = self._row_columns(new_rows, n0, family_index, article_row,
                                 int(self._group.max()) + 1 if n0 else 0, docs)
        c: dict[str, Any] = {"family_index": family_index, "article_row": article_row,
                             "live": None if live.all() else live, "store_order": False}
        c["ids"] = dense_new.ids if dense_new is not None else self._ids.extended(add_ids)
        tail["doc"] = tail["doc"] + len(doc_ids)
        c["doc_ids"] = doc_ids.extended(docs)
        c["doc_code"] = dict(self._doc_code)
        c["doc_code"].update((d, code + len(doc_ids)) for d, code in docs.items())
        old = {"kinds": self._kinds, "family_code": self._family_code, "penal": self._penal, "dates": self._dates,
               "repealed": self._repealed, "group": self._group, "article": self._article, "doc": self._doc,
               "prior": self._prior}
        for name, col in old.items():
            c[name] = np.concatenate([col, tail[name]])
        c["floor_rows"], c["floor_matrix"] = self._floor_rows, self._floor_matrix
        if dense_new is not None:
            if total <= FLOOR_SAMPLE:
                floor_rows = np.arange(total)
            else:  # the sample keeps its live rows and takes each new row with the sample's odds
                keep = self._floor_rows[live[self._floor_rows]]
                rng = np.random.default_rng(gen)
                new = np.arange(n0, total)[rng.random(total - n0) < FLOOR_SAMPLE / max(int(live.sum()), 1)]
                floor_rows = np.concatenate([keep, new])
            c["floor_rows"], c["floor_matrix"] = floor_rows, dense_new.vectors(floor_rows)
        if fp is None:
            fp = live_fingerprint(c["ids"], c["doc"], c["doc_ids"], c["live"])
        lexical.fingerprint = fp
        if dense_new is not None:
            dense_new.fingerprint = fp
        t = self._lap("columns", t)
        acc = access(total)
        self._lap("access", t)
        gone = set(self._ids[int(r)] for r in removed) - set(add_ids)
        if gone:  # caches keep only the store's chunks (a restart rebuilds from them)
            self.lexical.forget(sorted(gone))
            if dense is not None:
                dense.forget(sorted(gone))
        return _Built(gen, fp, acc, c, lexical, dense_new)

    def publish(self, b: _Built) -> None:
        """Make a built state the searched one: a new :class:`Snapshot` replaces the published
        one in a single reference assignment (searches pinned to the old one finish on it)."""
        old = self._snap
        lv, em, co = b.access
        if b.columns is None:  # the same chunks, new access columns
            self._snap = replace(old, gen=b.gen, feed=b.feed, levels=lv, embargo=em, collections=co)
            return
        from dasan.index.columns import release_free_memory

        c = b.columns
        b.lexical.chunk_ids = c["ids"]
        self._snap = Snapshot(
            gen=b.gen, fp=b.fp, feed=b.feed, lexical=b.lexical,
            dense=b.dense if b.dense is not None else old.dense, ids=c["ids"],
            levels=lv, embargo=em, collections=co,
            kinds=c["kinds"], family_code=c["family_code"], family_index=c["family_index"],
            family=np.array(list(c["family_index"]), dtype=object)[c["family_code"]],  # shared strs
            catalog=StatuteCatalog(c["family_index"]), penal=c["penal"], dates=c["dates"],
            repealed=c["repealed"], group=c["group"], article=c["article"], article_row=c["article_row"],
            doc=c["doc"], doc_ids=c["doc_ids"], doc_code=c["doc_code"], live=c["live"],
            store_order=c["store_order"], prior=c["prior"], floor_rows=c["floor_rows"],
            floor_matrix=c["floor_matrix"])
        del old
        if c["store_order"]:
            release_free_memory()

    def _row_columns(self, rows, row0: int, family_codes: dict[str, int], article_row: dict[str, int],
                     group0: int, docs: dict[str, int]) -> dict[str, Any]:
        """The per-row columns of ``rows`` (which become rows ``row0, row0+1, ...``): new statute
        families, articles' first rows and documents are added to the dicts given; article
        groups are numbered from ``group0``."""
        from dasan.index.columns import NO_DATE, date_key

        c: dict[str, Any] = {}
        shared: dict[str, str] = {}
        c["kinds"] = np.array([shared.setdefault(r.kind, r.kind) for r in rows], dtype=object)
        c["family_code"] = np.array(
            [family_codes.setdefault(statute_family(r.title) if r.kind == "law" else "", len(family_codes))
             for r in rows], dtype=np.int32)
        n = len(rows)
        addendum = np.zeros(n, dtype=bool)
        c["penal"] = penal = np.zeros(n, dtype=bool)
        c["dates"] = dates = np.full(n, NO_DATE, dtype=np.int32)  # YYYYMMDD
        c["repealed"] = repealed = np.zeros(n, dtype=bool)
        groups: dict[str, int] = {}
        c["group"] = group = np.empty(n, dtype=np.int32)  # group[row]: hashable article key
        c["article"] = article = np.empty(n, dtype=object)
        c["doc"] = doc = np.empty(n, dtype=np.int32)  # doc[row]: document code
        for i, r in enumerate(rows):
            m = json.loads(r.meta)
            addendum[i] = bool(m.get("addendum"))
            penal[i] = is_penalty_title(str(m.get("article_title") or ""))
            dates[i] = date_key(str(m.get("시행일자") or m.get("release_date") or ""))
            repealed[i] = m.get("상태") == "폐지"
            art = shared.setdefault(article_key(r.citation), article_key(r.citation)) if r.kind == "law" else ""
            article[i] = art
            if art:
                article_row.setdefault(art, row0 + i)
            key = f"{r.document_id}|{art}" if r.kind == "law" else r.id
            group[i] = groups.setdefault(key, group0 + len(groups))
            doc[i] = docs.setdefault(r.document_id, len(docs))
        c["prior"] = np.where(addendum, self.config.addendum_prior, 1.0).astype(np.float32)
        return c

    def _access_columns(self, rows, store_rows: np.ndarray | None = None,
                        n: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-row access data: effective level (the higher of the chunk's and its collection's;
        unknown levels rank above 기밀 so nobody sees them), embargo time (epoch seconds) and
        collection. ``store_rows[i]``: the index row of ``rows[i]`` when the index rows are not in
        store order (after incremental updates); rows of no store row (tombstones) get a level
        nobody holds and no collection."""
        ranks: dict[tuple[str, str], int] = {}
        levels = np.array([ranks.get(k) if (k := (r.classification, r.collection_level)) in ranks
                           else ranks.setdefault(k, max(level_rank(k[0]), level_rank(k[1]))) for r in rows],
                          dtype=np.int8)
        embargo = np.array([embargo_ts(m) if "embargo" in (m := r.meta) else 0.0 for r in rows], dtype=np.float64)
        shared: dict[str, str] = {}  # one str object per distinct value, not one per row
        collections = np.array([shared.setdefault(r.collection, r.collection) for r in rows], dtype=object)
        if store_rows is None:
            return levels, embargo, collections
        lv = np.full(n, np.iinfo(np.int8).max, dtype=np.int8)
        em = np.zeros(n, dtype=np.float64)
        co = np.full(n, "", dtype=object)
        lv[store_rows], em[store_rows], co[store_rows] = levels, embargo, collections
        return lv, em, co

    @property
    def size(self) -> int:
        return len(self._ids)

    def chunk_id(self, row: int) -> str:
        return self._ids[row]

    def _hidden(self) -> np.ndarray | None:
        """Rows this search must not see beyond the tombstones (None: none): those its pin
        hides (:meth:`_pin_hidden`; a :class:`~dasan.server.state.GuardedRetriever` hides the
        rows of documents changed since the state it serves was built)."""
        return getattr(self._pins, "hidden", None) if self.is_pinned() else None

    def pending_rows(self) -> np.ndarray | None:
        """The rows of the current (pinned) state whose documents (or collections) the store's
        change feed names after the entry this state includes: changed since it was built, their level,
        embargo or chunks may be stale. None when there are none, or when the feed cannot tell
        (none kept, a gap: then the state serves as it is until the next one is published)."""
        changes_since = getattr(self.store, "changes_since", None)
        pos = self._feed
        if changes_since is None or pos is None or self._doc_code is None:
            return None
        ch = changes_since(pos[1], limit=self.FEED_LIMIT)
        if ch.epoch != pos[0] or not ch.complete(pos[1]) or not ch.entries:
            return None
        codes = [c for c in (self._doc_code.get(e.document_id) for e in ch.entries if e.document_id) if c is not None]
        colls = sorted({e.collection for e in ch.entries if e.collection is not None})
        hide = np.isin(self._doc, codes) if codes else np.zeros(len(self._ids), dtype=bool)
        if colls:
            hide |= np.isin(self._collections, colls)
        return hide if hide.any() else None

    def _mask(self, flt: SearchFilter | None) -> np.ndarray | None:
        live = self._live  # tombstoned rows are out of every leg, filter or not
        hidden = self._hidden()
        if hidden is not None:
            live = ~hidden if live is None else live & ~hidden
        if flt is None or flt.is_empty():
            return None if live is None else live
        mask = np.ones(len(self._ids), dtype=bool) if live is None else live.copy()
        if flt.collection:
            mask &= self._collections == flt.collection
        if flt.kinds:
            mask &= np.isin(self._kinds, list(flt.kinds))
        if flt.date_from or flt.date_to or flt.in_force:
            from dasan.index.columns import NO_DATE, date_key

            dated = self._dates != NO_DATE  # chunks without a date are excluded by a date bound
            for bound, high in ((flt.date_from, False), (flt.date_to, True)):
                if bound:
                    key = date_key(bound, high=high)  # an unreadable bound matches nothing
                    mask &= dated & ((self._dates <= key) if high else (self._dates >= key)) & (key != NO_DATE)
            if flt.in_force:
                today = date_key(date.today().isoformat())
                mask &= (self._kinds != "law") | (dated & (self._dates <= today) & ~self._repealed)
        if flt.collections is not None:
            mask &= np.isin(self._collections, sorted(flt.collections))
        if flt.max_level:
            mask &= self.effective_levels() <= LEVELS.index(flt.max_level)
        return mask

    def _row(self, chunk_id: str) -> int | None:
        self.refresh()
        return self._cur().row(chunk_id)

    def level_of(self, chunk_id: str) -> int:
        """Effective level index of one indexed chunk now (highest level when unknown)."""
        with self.pinned():
            return self._level_of(chunk_id)

    def _level_of(self, chunk_id: str) -> int:
        row = self._row(chunk_id)
        hidden = self._hidden()
        if row is None or (hidden is not None and hidden[row]):
            return len(LEVELS) - 1
        level = int(self._levels[row])
        if self._embargo[row] > time.time():
            level = max(level, EMBARGO_LEVEL)
        return min(level, len(LEVELS) - 1)

    def article_chunks(self, chunk_ids: list[str], flt: SearchFilter | None = None) -> dict[str, list[Chunk]]:
        """For each chunk: every chunk of the statute article it belongs to, in document order,
        that ``flt`` permits (for other kinds: the chunk itself). A long article is split into
        several chunks and search keeps only its best one; the answer composer reads it whole."""
        return self._same_unit_chunks(chunk_ids, flt, "group")

    def document_chunks(self, chunk_ids: list[str], flt: SearchFilter | None = None) -> dict[str, list[Chunk]]:
        """For each chunk: every chunk of its document, in document order, that ``flt`` permits
        (a press release read whole; access filters applied as in search)."""
        return self._same_unit_chunks(chunk_ids, flt, "doc")

    def _same_unit_chunks(self, chunk_ids: list[str], flt: SearchFilter | None,
                          column: str) -> dict[str, list[Chunk]]:
        """Chunks sharing ``unit[row]`` with each given chunk, permitted by ``flt``, in order."""
        with self.pinned() as snap:
            unit = getattr(snap, column)
            mask = self._mask(flt)
            want: dict[str, list[str]] = {}
            for cid in chunk_ids:
                row = self._row(cid)
                if row is None:
                    continue
                rows = np.nonzero(unit == unit[row])[0]
                if mask is not None:
                    rows = rows[mask[rows]]
                want[cid] = [self._ids[int(r)] for r in rows]
        found = {c.id: c for c in self.store.get_chunks(sorted({i for ids in want.values() for i in ids}))}
        return {cid: [found[i] for i in ids if i in found] for cid, ids in want.items()}

    def latest_date(self, flt: SearchFilter | None = None, kind: str = "press") -> str | None:
        """The newest date (a press release's 보도일) among the chunks of ``kind`` that ``flt``
        permits, ISO; None when there are none. Relative times ("지난달") are resolved against it."""
        with self.pinned():
            return self._latest_date(flt, kind)

    def _latest_date(self, flt: SearchFilter | None, kind: str) -> str | None:
        from dasan.index.columns import NO_DATE

        if not len(self._ids):
            return None
        mask = self._kinds == kind
        permitted = self._mask(flt)
        if permitted is not None:
            mask &= permitted
        dates = self._dates[mask & (self._dates != NO_DATE)]
        if not dates.size:
            return None
        d = int(dates.max())
        return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}"

    def effective_levels(self, now: float | None = None) -> np.ndarray:
        """Levels now: a press release before its 보도시점 is 비공개 — at least 민감 (S)."""
        t = time.time() if now is None else now
        return np.where(self._embargo > t, np.maximum(self._levels, EMBARGO_LEVEL), self._levels)

    def _boosts(self, q: QueryInfo) -> np.ndarray:
        boost = self._prior
        codes = [self._family_index[f] for f in q.families if f in self._family_index]
        if codes:
            boost = boost * np.where(np.isin(self._family_code, codes), self.config.family_boost, 1.0)
        if q.penalty and self.config.penalty_boost != 1.0:
            boost = boost * np.where(self._penal, self.config.penalty_boost, 1.0)
        return boost.astype(np.float32)

    def _phrase_hits(self, rows: list[int], phrases: list[str]) -> dict[int, float]:
        """Multiplier per candidate row: quoted term present as a quoted term, or at all."""
        if not phrases or not rows:
            return {}
        texts = self.store.chunk_texts([self._ids[r] for r in rows])
        out = {}
        for r in rows:
            t = texts.get(self._ids[r], "")
            if any(f'"{p}"' in t or f"“{p}”" in t or f"'{p}'" in t for p in phrases):
                out[r] = self.config.phrase_boost
            elif any(p in t for p in phrases):
                out[r] = math.sqrt(self.config.phrase_boost)
        return out

    def ranker(self):
        """The learned final-ranking model in use (None: the hybrid ranking is final)."""
        if self.ranker_override is not None:
            return self.ranker_override
        name = self.config.model
        if not name:
            return None
        if self._selection is None:
            from dasan.learn.registry import ModelSelection, load_ranker

            if name != "current":
                self._selection = _Fixed(load_ranker(self._models_home, name))
            else:
                self._selection = ModelSelection(self._models_home)
        return self._selection.get()

    def article_of(self, row: int) -> str:
        """The statute article key of a row ("" for chunks that are not statute articles)."""
        return self._article[row] or ""

    def article_row(self, key: str) -> int | None:
        return self._article_row.get(key)
    def _adaptive_alpha(self, query: str, tokens: list[str], lexical: list[tuple[int, float]],
                        cfg: RetrievalConfig) -> float:
        bm = self.lexical.bm25
        coverage = bm.coverage(tokens, lexical[0][0]) if bm and lexical else 0.0
        return adaptive_alpha(cfg.lexical_weight, coverage, len(query), cfg.coverage_gain, cfg.length_gain)

    def rank(self, query: str, k: int = 10, flt: SearchFilter | None = None,
             mode: Mode = "hybrid") -> list[tuple[int, float, dict[str, float]]]:
        """Ranked ``(row, score, per_leg_scores)``; rows index the chunk list of the snapshot
        pinned for the call (pin one around it to read rows afterwards: :meth:`pinned`)."""
        with self.pinned():
            return self._rank(query, k, flt, mode)

    def _rank(self, query: str, k: int, flt: SearchFilter | None, mode: Mode) -> list[Ranked]:
        stages = self.rank_stages(query, k, flt, mode)
        fused = stages.fused
        ranker = self.ranker() if mode == "hybrid" else None
        if ranker is not None and fused:
            t0 = time.perf_counter()
            mask = stages.mask
            fused = ranker.rerank(fused, stages.tokens, stages.vector if stages.vector.size else None,
                                  self.article_of, self.article_row,
                                  (lambda r: True) if mask is None else (lambda r: bool(mask[r])))
            self._fill_dense(fused[:k], stages.vector)
            self.timings_ms["learned"] = (time.perf_counter() - t0) * 1000
        return fused[:k]

    def _fill_dense(self, ranked: list[Ranked], qv: np.ndarray) -> None:
        """Articles the learned stage added from the archive were not among the dense leg's
        candidates: give them their cosine too (answers judge relevance by it)."""
        if self.dense is None or not qv.size:
            return
        missing = [i for i, (_, _, legs) in enumerate(ranked) if "dense" not in legs]
        if not missing:
            return
        vecs = self.dense.vectors([ranked[i][0] for i in missing])
        for i, cos in zip(missing, vecs @ qv, strict=True):
            ranked[i][2]["dense"] = float(cos)

    def rank_stages(self, query: str, k: int = 10, flt: SearchFilter | None = None,
                    mode: Mode = "hybrid") -> RankStages:
        """The hybrid ranking before any learned stage, with what the learned stage reads: the
        question's tokens, its query vector and the access mask. ``fused`` is not cut to ``k``."""
        with self.pinned():
            return self._rank_stages(query, k, flt, mode)

    def _rank_stages(self, query: str, k: int, flt: SearchFilter | None, mode: Mode) -> RankStages:
        cfg = self.config
        mask = self._mask(flt)
        q = self.catalog.analyse(query)
        boost = self._boosts(q)
        depth = max(k * 3, cfg.depth)
        legs: dict[str, list[tuple[int, float]]] = {}
        t0 = time.perf_counter()
        framing = frame_long(query, cfg.asking_min_chars, self.lexical.tokenizer)
        q_tokens = framing.tokens if framing else self.lexical.tokenizer(query)
        exp = default_thesaurus().expand(q_tokens) if cfg.expand_terms else None
        self.last_expansion = exp
        if mode in ("hybrid", "lexical"):
            lex = self.lexical.scores_tokens(q_tokens)
            if framing and framing.situational and cfg.asking_weight != 1.0:
                lex = lex + (cfg.asking_weight - 1.0) * self.lexical.scores_tokens(framing.asking_tokens)
            if exp and cfg.expansion_weight > 0:
                lex = lex + cfg.expansion_weight * self.lexical.scores_tokens(exp.tokens)
            cand = top_k(lex * boost, depth * 2, mask)
            ph = self._phrase_hits([r for r, _ in cand], q.phrases)
            legs["bm25"] = sorted(((r, s * ph.get(r, 1.0)) for r, s in cand), key=lambda x: -x[1])[:depth]
        t1 = time.perf_counter()
        qv = np.zeros(0, dtype=np.float32)
        if mode in ("hybrid", "dense") and self.dense is not None:
            extra = f"({', '.join(exp.terms)})" if exp and cfg.expand_dense else ""
            dense_text = f"{query} {extra}" if extra else query
            if framing and len(dense_text) > cfg.dense_chars:
                dense_text = framing.dense_text(cfg.dense_chars, extra)
            qv = self.dense.embed_query(dense_text)
            cand = self.dense.search_vector(qv, depth * 2, mask)
            ph = self._phrase_hits([r for r, _ in cand], q.phrases)
            scale = cfg.dense_boost_scale
            legs["dense"] = sorted(
                ((r, s + scale * math.log(float(boost[r]) * ph.get(r, 1.0))) for r, s in cand), key=lambda x: -x[1]
            )[:depth]
        t2 = time.perf_counter()
        self.timings_ms = {"bm25": (t1 - t0) * 1000, "dense": (t2 - t1) * 1000}
        if len(legs) == 1:
            [(name, ranked)] = legs.items()
            fused = [(r, s, {name: s}) for r, s in ranked]
        elif cfg.fusion == "rrf":
            fused = rrf(legs, cfg.weights, cfg.k0)
        else:
            alpha = cfg.lexical_weight
            if cfg.fusion == "adaptive":
                alpha = self._adaptive_alpha(query, q_tokens, legs["bm25"], cfg)
            fused = convex(legs["bm25"], legs["dense"], alpha, self._dense_floor(qv, mask))
        if cfg.collapse_articles:
            seen: set[str] = set()
            out = []
            for item in fused:
                g = self._group[item[0]]
                if g not in seen:
                    seen.add(g)
                    out.append(item)
            fused = out
        if cfg.value_boost != 1.0 and fused:
            fused = self._value_rerank(query, fused, cfg)
        return RankStages(fused, q_tokens, qv, mask)

    def _value_rerank(self, query: str, fused: list[Ranked], cfg: RetrievalConfig) -> list[Ranked]:
        types = expected_types(query)
        if not types:
            return fused
        head, tail = fused[: cfg.value_depth], fused[cfg.value_depth:]
        texts = self.store.chunk_texts([self._ids[r] for r, _, _ in head])
        boosted = [(r, s * (cfg.value_boost if states_value(texts.get(self._ids[r], ""), types) else 1.0), legs)
                   for r, s, legs in head]
        boosted.sort(key=lambda x: (-x[1], x[0]))
        return boosted + tail

    def _dense_floor(self, qv: np.ndarray, mask: np.ndarray | None) -> float:
        """The 90th-percentile cosine over (a fixed sample of) permitted chunks."""
        if self._floor_rows.size == 0:
            return 0.0
        sims = np.einsum("ij,j->i", self._floor_matrix, qv)  # no BLAS threads: steady under load
        if mask is not None:
            sims = sims[mask[self._floor_rows]]
            if sims.size == 0:
                return 0.0
        return float(np.percentile(sims, 90))

    def search(self, query: str, k: int = 10, flt: SearchFilter | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """The best ``k`` chunks as hits. A ranked chunk the store does not return in the
        request's scope (PostgreSQL's row-level security withheld it) is left out, not an error."""
        with self.pinned():
            ranked = self.rank(query, k, flt, mode)
            ids = [self._ids[r] for r, _, _ in ranked]
        chunks = {c.id: c for c in self.store.get_chunks(ids)}
        terms = set(self.lexical.tokenizer(query))
        hits: list[Hit] = []
        for (_, score, legs), cid in zip(ranked, ids, strict=True):
            if cid in chunks:
                hits.append(Hit(chunk=chunks[cid], score=score, rank=len(hits) + 1,
                                snippet=snippet(chunks[cid].text, terms), scores=legs))
        return hits


def reads_one_snapshot(fn):
    """Run ``fn`` with its ``retriever`` argument pinned to one index snapshot (searches,
    article or release expansion and level checks inside all read the same state)."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with sig.bind(*args, **kwargs).arguments["retriever"].pinned():
            return fn(*args, **kwargs)

    return wrapper


@dataclass
class _Built:
    """A complete index state built by :meth:`Retriever.build`, not yet published."""

    gen: int
    fp: str
    access: tuple[np.ndarray, np.ndarray, np.ndarray]
    columns: dict[str, Any] | None = None  # None: the same chunks as now (only access changed)
    lexical: Any = None
    dense: Any = None
    feed: tuple[str, int] | None = None  # the store's change feed this state includes (identity, entry)


def live_fingerprint(ids: Any, doc: np.ndarray, doc_ids: Any, live: np.ndarray | None) -> str:
    """:meth:`LexicalIndex.fingerprint_of` the live rows' chunk ids in store order (document id,
    then ordinal), without the store: a document's rows are one block in ordinal order, so
    they sort by their document's id and then by row."""
    rows = np.arange(len(ids)) if live is None else np.flatnonzero(live)
    names = np.array(list(doc_ids)) if len(doc_ids) else np.zeros(0, dtype=str)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    order = rows[np.argsort(rank[doc[rows]], kind="stable")]
    width = getattr(ids, "_width", 0)
    buf = getattr(ids, "_buf", b"")
    if width and len(buf) == width * len(ids):  # packed fixed-width ids: hashed without a str per row
        packed = np.frombuffer(buf, dtype=np.uint8).reshape(len(ids), width)[order]
        lines = np.empty((len(order), width + 1), dtype=np.uint8)
        lines[:, :width], lines[:, width] = packed, ord("\n")
        import hashlib

        return hashlib.sha256(lines.tobytes()).hexdigest()[:32]
    return LexicalIndex.fingerprint_of([ids[int(i)] for i in order])


@dataclass
class RankStages:
    fused: list[Ranked]
    tokens: list[str]
    vector: np.ndarray
    mask: np.ndarray | None


class _Fixed:
    def __init__(self, ranker) -> None:
        self.ranker = ranker

    def get(self):
        return self.ranker


def snippet(text: str, terms: set[str], width: int = 160) -> str:
    """A window of ``text`` around the densest query-term region, terms wrapped in 【】."""
    flat = re.sub(r"\s+", " ", text).strip()
    if not terms:
        return flat[:width]
    spans = [(tok.start, tok.start + tok.len) for tok in kiwi().tokenize(flat) if tok.form in terms]
    if not spans:
        return flat[:width]
    best_start, best_n = 0, -1
    for s, _ in spans:
        n = sum(1 for a, _ in spans if s <= a < s + width)
        if n > best_n:
            best_start, best_n = s, n
    start = max(0, best_start - width // 4)
    end = min(len(flat), start + width)
    out, pos = [], start
    for a, b in sorted(spans):
        if a < start or b > end or a < pos:
            continue
        out.append(flat[pos:a])
        out.append(f"【{flat[a:b]}】")
        pos = b
    out.append(flat[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")
