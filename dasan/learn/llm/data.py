"""Governed training text for the language model, built from ingested documents.

Two kinds of training piece come out of each document the operator chose:

- ``document``: the document itself for continued pre-training, structure kept — the header of a
  press release (부처, 보도시점, 배포, 담당 부서), the headline and subtitles, then every chunk in
  order with its section heading written as ``■ heading`` where it changes;
- ``instruction``: question → passage pairs made without any model, in the transcript form the
  llama-cpp backend serves (``질문: …`` / ``답변: … [출처: citation]``): a question from the
  headline (the lead passage answers it), from each section heading (its passage answers it)
  and from each table row whose first cell names something (the row answers it).

Governance, all recorded in the manifest (:mod:`dasan.learn.llm.manifest`):

- only the collections named; a document whose effective level (its own, its collection's and
  its chunks', raised by an unexpired 보도시점 embargo; :mod:`dasan.security.levels`) is above
  ``max_level`` is left out whole;
- personal data found by :mod:`dasan.security.pii` (contacts included) is masked in every piece;
- evaluation material is kept out: documents named by id (store id or source-file stem: the
  held-out documents and the gold documents of the evaluation questions), documents and chunks
  whose text is a near-duplicate (character 5-gram Jaccard ≥ 0.5, :mod:`dasan.learn.dedup`) of
  a held-out document's or chunk's, and instruction pairs whose question is a near-duplicate of
  an evaluation question.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from dasan.errors import ConfigError
from dasan.learn.dedup import NEAR_DUPLICATE, ShingleIndex
from dasan.security.levels import effective_rank, embargo_ts, level_rank
from dasan.types import LEVELS, Chunk

INSTRUCTION_FORMAT = "질문: {question}\n답변: {answer} [출처: {citation}]"
_TABLE_SPLIT = re.compile(r"\s*\|\s*|\t+")
_WS = re.compile(r"[ \t]+")


@dataclass
class Piece:
    """One training text and where it came from."""

    kind: str  # "document" | "instruction"
    document_id: str
    chunk_ids: list[str]
    text: str


@dataclass
class EvalQuestion:
    id: str
    question: str
    gold: list[str]
    source: str


@dataclass
class Holdout:
    """Documents that must not be trained on: ids (store ids or source stems) and their text."""

    ids: set[str] = field(default_factory=set)
    doc_texts: list[str] = field(default_factory=list)
    chunk_texts: list[str] = field(default_factory=list)


@dataclass
class TrainingSet:
    pieces: list[Piece]
    documents: list[dict[str, Any]]  # manifest rows of the documents used (with their chunks)
    excluded: list[dict[str, Any]]  # documents / chunks / pairs kept out, each with a reason
    pii_masked: int  # personal-data findings masked
    collections: list[str]
    max_level: str

    def counts(self) -> dict[str, int]:
        out = {"documents": len(self.documents), "chunks": sum(len(d["chunks"]) for d in self.documents),
               "document_pieces": sum(p.kind == "document" for p in self.pieces),
               "instruction_pairs": sum(p.kind == "instruction" for p in self.pieces),
               "pii_masked": self.pii_masked}
        for e in self.excluded:
            key = f"excluded_{e['reason'].split(':')[0]}"
            out[key] = out.get(key, 0) + 1
        return out


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_stem(path: str | None) -> str:
    return PurePath(path).name.split(".")[0] if path else ""


def read_eval_questions(paths: Iterable[str | Path]) -> list[EvalQuestion]:
    out = []
    for p in paths:
        p = Path(p)
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ConfigError(f"평가 질문 파일의 {n}번째 줄이 JSON이 아닙니다({e}). 파일을 고치거나 --exclude에서 빼세요.",
                                  path=str(p)) from e
            out.append(EvalQuestion(str(obj.get("id", "")), str(obj.get("question", "")),
                                    [str(g) for g in obj.get("gold") or [] if str(g).strip()], p.name))
    return out


# -- rendering -----------------------------------------------------------------------------
def _clean(text: str) -> str:
    lines = [_WS.sub(" ", ln).strip() for ln in text.replace("\r", "").split("\n")]
    return "\n".join(ln for ln in lines if ln)


def render_header(title: str | None, meta: dict[str, Any]) -> list[str]:
    """The lines a press release starts with (and nothing for a document without them)."""
    head = []
    kind = meta.get("doc_type") or ("보도자료" if meta.get("embargo_text") or meta.get("ministry") else None)
    if kind or meta.get("ministry"):
        head.append(" ".join(x for x in (kind, meta.get("ministry")) if x))
    if meta.get("embargo_text"):
        head.append(f"보도시점: {meta['embargo_text']}")
    if meta.get("distributed"):
        head.append(f"배포: {meta['distributed']}")
    depts = meta.get("departments") or []
    if depts:
        head.append("담당: " + ", ".join(str(d) for d in depts))
    if title:
        head.append(f"제목: {title}")
    return head


def heading_of(chunk: Chunk, title: str | None) -> str | None:
    """The section heading a chunk sits under (its context's last part), not the title."""
    ctx = (chunk.context or "").strip()
    if not ctx:
        return None
    last = ctx.split(" > ")[-1].strip()
    if not last or (title and last == title.strip()):
        return None
    return last


def render_document(title: str | None, meta: dict[str, Any], chunks: list[Chunk]) -> str:
    lines = render_header(title, meta)
    prev = None
    for c in chunks:
        h = heading_of(c, title)
        if h and h != prev:
            lines.append(f"■ {h}")
        prev = h or prev
        lines.append(_clean(c.text))
    return "\n".join(x for x in lines if x).strip() + "\n"


def _lead(text: str, title: str | None) -> str:
    """A chunk's text without the headline and subtitle lines it repeats."""
    out = [ln for ln in _clean(text).split("\n")
           if not (title and ln.strip() == title.strip()) and not re.match(r"^-\s.*\s-$", ln.strip())]
    return "\n".join(out)


def instruction_pairs(title: str | None, chunks: list[Chunk], *, max_chars: int = 700,
                      max_rows: int = 3) -> list[tuple[str, str, list[str]]]:
    """(question, answer, chunk ids): from the headline, each section heading and table rows
    (at most ``max_rows`` rows a document: large statistics tables would crowd out the text)."""
    out: list[tuple[str, str, list[str]]] = []
    if not chunks:
        return out
    label = chunks[0].citation.label if chunks[0].citation else (title or "")

    def add(question: str, answer: str, ids: list[str]) -> None:
        answer = answer.strip()[:max_chars].strip()
        if question.strip() and len(answer) >= 20:
            out.append((question.strip(), INSTRUCTION_FORMAT.format(question=question.strip(), answer=answer,
                                                                   citation=label), ids))

    if title:
        lead = _lead(chunks[0].text, title)
        add(f"{title}의 주요 내용은 무엇인가요?", lead, [chunks[0].id])
    seen: set[str] = set()
    rows = 0
    for c in chunks:
        h = heading_of(c, title)
        if h and h not in seen:
            seen.add(h)
            add(f"{title + '에서 ' if title else ''}{h.strip('□○ ')}에 대해 알려 주세요.", _lead(c.text, title), [c.id])
        for row in _clean(c.text).split("\n"):
            cells = [x for x in _TABLE_SPLIT.split(row) if x.strip()]
            if (rows < max_rows and len(cells) >= 2 and "|" in row and 1 < len(cells[0]) <= 30
                    and not cells[0].isdigit()):
                rows += 1
                add(f"{title + '의 ' if title else ''}{cells[0]} 항목은 어떻게 되나요?", " | ".join(cells), [c.id])
    return out


# -- building ------------------------------------------------------------------------------
def build_training_set(store: Any, collections: list[str], *, max_level: str = "공개",
                       holdout: Holdout | None = None, eval_questions: list[EvalQuestion] | None = None,
                       exclude_gold: bool = True, instructions: bool = True,
                       now: float | None = None) -> TrainingSet:
    """The governed pieces of the named collections (see the module docs)."""
    from dasan.llm.base import normalize_level
    from dasan.security.pii import detect, mask

    max_level = normalize_level(max_level)
    cap = LEVELS.index(max_level)
    now = time.time() if now is None else now
    holdout = holdout or Holdout()
    evalq = eval_questions or []
    known = {c["name"]: c for c in store.collections()}
    missing = [c for c in collections if c not in known]
    if missing:
        raise ConfigError(f"컬렉션이 없습니다: {', '.join(missing)} (있는 컬렉션: {', '.join(sorted(known)) or '없음'}). "
                          "`dasan ingest 폴더 -c 이름`으로 먼저 수집하세요.")
    eval_ids = {q.id: q.source for q in evalq if q.id}
    gold = {g: q.source for q in evalq for g in q.gold} if exclude_gold else {}
    near_docs = ShingleIndex(holdout.doc_texts)
    near_chunks = ShingleIndex(holdout.chunk_texts)
    near_questions = ShingleIndex([q.question for q in evalq])
    pieces: list[Piece] = []
    used: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    masked = 0

    def masked_text(text: str) -> str:
        nonlocal masked
        found = detect(text)
        masked += len(found)
        return mask(text, found) if found else text

    for col in collections:
        col_level = known[col].get("level")
        for d in sorted(store.list_documents(col), key=lambda d: (source_stem(d.source_path), d.id)):
            stem = source_stem(d.source_path)
            row = {"id": d.id, "source": stem, "title": d.title}
            chunks = sorted(store.chunks_of(d.id), key=lambda c: c.ordinal)
            emb = embargo_ts(d.metadata or {})
            rank = max([effective_rank(d.classification, col_level, emb, now)]
                       + [level_rank(c.classification) for c in chunks])
            if rank > cap:
                level = LEVELS[rank] if rank < len(LEVELS) else "unknown"
                why = "embargo" if emb > now and effective_rank(d.classification, col_level, 0, now) <= cap else "level"
                excluded.append(row | {"reason": f"{why}:{level}>{max_level}"})
                continue
            if d.source_path.endswith(".meta.json"):
                excluded.append(row | {"reason": "listing:meta.json"})  # a website listing beside a release
                continue
            if d.id in holdout.ids or stem in holdout.ids:
                excluded.append(row | {"reason": "eval-id:holdout"})
                continue
            if d.id in gold or stem in gold:
                excluded.append(row | {"reason": f"eval-id:gold:{gold.get(d.id) or gold.get(stem)}"})
                continue
            if not chunks:
                excluded.append(row | {"reason": "empty"})
                continue
            doc_text = "\n".join(c.text for c in chunks)
            dup = near_docs.similar(doc_text, NEAR_DUPLICATE)
            if dup:
                excluded.append(row | {"reason": f"eval-near-duplicate:document:{dup[0][1]:.2f}"})
                continue
            kept: list[Chunk] = []
            for c in chunks:
                dupc = near_chunks.similar(c.text, NEAR_DUPLICATE)
                if dupc:
                    excluded.append({"id": c.id, "document_id": d.id, "source": stem,
                                     "reason": f"eval-near-duplicate:chunk:{dupc[0][1]:.2f}"})
                else:
                    kept.append(c)
            if not kept:
                continue
            text = masked_text(render_document(d.title, d.metadata or {}, kept))
            pieces.append(Piece("document", d.id, [c.id for c in kept], text))
            n_pairs = 0
            if instructions:
                for question, pair, ids in instruction_pairs(d.title, kept):
                    if question in eval_ids:
                        continue
                    dq = near_questions.similar(question, NEAR_DUPLICATE)
                    if dq:
                        q = evalq[dq[0][0]]
                        excluded.append({"id": d.id, "source": stem, "question": question,
                                         "reason": f"eval-near-duplicate:question:{q.source}:{q.id}:{dq[0][1]:.2f}"})
                        continue
                    pieces.append(Piece("instruction", d.id, ids, masked_text(pair)))
                    n_pairs += 1
            used.append(row | {
                "collection": col, "level": LEVELS[max(level_rank(d.classification), level_rank(col_level))],
                "content_hash": d.content_hash, "text_sha256": sha256_text(text), "instruction_pairs": n_pairs,
                "chunks": [{"id": c.id, "ordinal": c.ordinal, "level": c.classification,
                            "sha256": sha256_text(c.text)} for c in kept]})
    if not pieces:
        raise ConfigError("학습할 문서가 없습니다: 고른 컬렉션의 문서가 모두 등급 상한·평가 제외에 걸렸습니다. "
                          "--max-level, --collection, --holdout을 확인하세요.")
    return TrainingSet(pieces, used, excluded, masked, list(collections), max_level)


def holdout_from_store(store: Any) -> Holdout:
    """Ids and texts of every document in ``store`` (a store the held-out corpus was ingested into)."""
    out = Holdout()
    for d in store.list_documents():
        out.ids.update({d.id, source_stem(d.source_path)})
        chunks = store.chunks_of(d.id)
        out.doc_texts.append("\n".join(c.text for c in chunks))
        out.chunk_texts.extend(c.text for c in chunks if len(c.text) >= 40)
    return out


def document_texts(store: Any, collection: str | None = None) -> list[tuple[str, str]]:
    """(document id, rendered text) of every document in ``store``: what ``bench lm`` scores."""
    out = []
    for d in sorted(store.list_documents(collection), key=lambda d: (source_stem(d.source_path), d.id)):
        if d.source_path.endswith(".meta.json"):
            continue
        chunks = sorted(store.chunks_of(d.id), key=lambda c: c.ordinal)
        if chunks:
            out.append((source_stem(d.source_path) or d.id, render_document(d.title, d.metadata or {}, chunks)))
    return out
