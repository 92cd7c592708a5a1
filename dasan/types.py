"""Shared data types used across ingestion, storage, retrieval and answering.

Every reader produces a :class:`Document` made of ordered :class:`Block` objects; structure
parsers and the chunker turn a document into :class:`Chunk` objects that carry a
:class:`Citation`. Later layers add :class:`Hit`, :class:`Answer` (with the
:class:`SentenceCheck` of each sentence a model wrote) and :class:`Principal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

BlockKind = Literal["heading", "paragraph", "list_item", "table", "page_break", "record"]

#: Classification levels after N2SF, lowest first.
LEVELS: tuple[str, ...] = ("공개", "민감", "기밀")
DEFAULT_LEVEL = "공개"


@dataclass
class Block:
    """One unit of a document's reading order.

    - ``heading``: ``level`` 1 is the largest heading.
    - ``list_item``: ``level`` is the nesting depth (0 = top) and ``meta["bullet"]`` the marker.
    - ``table``: ``rows`` holds the cell texts row by row; ``text`` is a flattened rendering.
    - ``page_break``: ``page`` is the number of the page that starts here.
    - ``record``: one row/record of tabular or JSON Lines data; ``meta["fields"]`` maps
      column names to values and ``meta["record_id"]`` identifies it.
    """

    kind: BlockKind
    text: str = ""
    level: int = 0
    rows: list[list[str]] | None = None
    page: int | None = None
    section: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    """The common output of every reader."""

    source: str  # path of the file it was read from
    format: str  # hwp, hwpx, pdf, docx, html, txt, md, csv, xlsx, jsonl
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # author, created, modified, front matter
    pages: int | None = None  # number of pages where the format has pages
    empty_pages: list[int] = field(default_factory=list)  # pages with no text layer (1-based)
    kind: str = "generic"  # generic | law | press | records; set by structure detection

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks if b.text)

    @property
    def is_empty(self) -> bool:
        return not any(b.text.strip() for b in self.blocks)


@dataclass
class Citation:
    """Where a chunk comes from, precise enough to quote.

    ``label`` is the human-readable citation, e.g. ``철도안전법 시행령 제60조의6 제1항`` or
    ``2026 철도안전 보도자료 p.3``.
    """

    label: str
    title: str | None = None  # document / statute title
    article: str | None = None  # 제60조의6
    paragraph: str | None = None  # 제1항
    page: int | None = None
    section: str | None = None  # heading path or record id


_ARTICLE_KEY = re.compile(r"^(.*?제\d+조(?:의\d+)?)(?=\s|$)")


def article_key(citation: str) -> str:
    """``철도안전법 시행령 제60조의6 제1항`` → ``철도안전법 시행령 제60조의6`` (other labels unchanged)."""
    m = _ARTICLE_KEY.match(citation.strip())
    return m.group(1) if m else citation.strip()


@dataclass
class Chunk:
    id: str
    document_id: str
    ordinal: int
    text: str
    citation: Citation
    context: str = ""  # parent headings / article title kept as retrieval context
    classification: str = DEFAULT_LEVEL
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    rank: int = 0
    snippet: str = ""
    scores: dict[str, float] = field(default_factory=dict)  # per retrieval leg


@dataclass
class CitedSource:
    """One numbered source of an answer: marker ``[n]`` in the text maps to this chunk."""

    marker: int
    chunk: Chunk
    quote: str  # the exact source text that supports the answer
    score: float = 0.0  # support score of the best-supported sentence


@dataclass
class SentenceCheck:
    """One sentence a language model wrote, as the support checker judged it against the
    sources. ``marker`` and the source fields are set when it is supported (and kept)."""

    text: str  # the sentence without the markers the model wrote
    supported: bool
    marker: int | None = None  # the [n] the application gave it
    chunk_id: str | None = None  # the supporting source
    document_id: str | None = None
    citation: str | None = None  # the supporting source's citation label
    lexical: float = 0.0
    semantic: float = 0.0


@dataclass
class Answer:
    text: str
    refused: bool
    citations: list[CitedSource] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)  # retrieved passages (closest documents when refused)
    backend: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. removed unsupported sentences, backend fallback
    routing: dict[str, str] = field(default_factory=dict)  # model routing by level (requested, used, reason)
    #: Every sentence a language model wrote for this answer, supported or not; None when no
    #: model wrote any part of it (extractive answers, refusals, a model that failed).
    generated: list[SentenceCheck] | None = None
    #: The part of ``text`` the model wrote (its supported sentences with their markers): ``text``
    #: starts with it and the rest is the verbatim quotes Dasan appends. Empty when none of the
    #: model's sentences was supported (``text`` is then the quotes alone); None as ``generated``.
    generated_text: str | None = None


@dataclass
class Principal:
    """Who is asking. The local operator is an admin with the highest clearance."""

    name: str
    clearance: str = DEFAULT_LEVEL
    roles: tuple[str, ...] = ("user",)
    departments: tuple[str, ...] = ()
    #: API-key scopes limiting what this principal may do; None = not limited (local CLI).
    scopes: tuple[str, ...] | None = None
    #: Public prefix of the API key that authenticated this principal (for the audit log).
    key_prefix: str | None = None

    @classmethod
    def operator(cls) -> Principal:
        return cls(name="operator", clearance=LEVELS[-1], roles=("admin",))


class IndexRow(NamedTuple):
    """One chunk as the search index reads it (``Store.index_rows``, ``Store.index_rows_of``):
    the same type from every store, columns in this order."""

    id: str
    context: str | None  # None when read without texts
    text: str | None  # None when read without texts
    citation: str
    classification: str  # the chunk's own level
    meta: str  # the chunk's metadata, JSON text (parsed only where needed)
    collection: str
    kind: str  # the document's kind ("law", "press", …)
    title: str | None  # the document's title
    document_id: str
    collection_level: str  # the collection's level ("공개" when it has none)

    @classmethod
    def of(cls, row: Any) -> IndexRow:
        """From a driver row with these column names (a mapping or a sequence in this order)."""
        return cls._make(row) if isinstance(row, tuple) else cls._make(row[f] for f in cls._fields)
