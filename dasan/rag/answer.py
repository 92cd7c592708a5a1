"""Grounded answers: retrieve → gate → compose → verify → cite.

Backends:

- ``extractive`` (no language model): picks the source units (statute 항·호 lines or
  sentences) that best cover the question and quotes them verbatim with markers;
- any :class:`dasan.llm.base.LLMBackend`: writes an answer from numbered sources; each
  sentence is then verified against the sources and the citation markers are recomputed by
  the application — markers the model wrote are discarded, unsupported sentences removed.

When no retrieved source is relevant enough the answer is a refusal in Korean with the
closest documents listed; an answer is never produced without a supporting source.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dasan.korean.sentences import split_sentences
from dasan.korean.tokenize import tokenize_query
from dasan.rag.retrieve import Retriever, SearchFilter
from dasan.rag.support import SupportChecker, idf_from_bm25, units
from dasan.types import Answer, CitedSource, Hit

REFUSAL = "제공된 문서에서 근거를 찾지 못했습니다."
_MARKER_RE = re.compile(r"\s*\[\d+(?:\s*[,，]\s*\d+)*\]")
_HEADING_RE = re.compile(r"^제\d+조(?:의\d+)?\s*\(.*\)\s*$")


@dataclass
class AnswerConfig:
    k: int = 5  # passages retrieved
    sources: int = 3  # passages offered to the composer
    min_coverage: float = 0.45  # IDF-weighted share of question terms found in the best passage
    min_dense: float = 0.83  # cosine of the best passage, alternative evidence of relevance
    max_units: int = 4
    max_chars: int = 700
    generation: dict[str, Any] = field(default_factory=lambda: {"max_tokens": 256, "temperature": 0.0})


@dataclass
class Relevance:
    coverage: float
    dense: float

    def ok(self, cfg: AnswerConfig) -> bool:
        return self.coverage >= cfg.min_coverage or self.dense >= cfg.min_dense


class Answerer:
    def __init__(self, retriever: Retriever, backends: dict[str, Any] | None = None,
                 config: AnswerConfig | None = None) -> None:
        self.retriever = retriever
        self.backends = backends or {}
        self.config = config or AnswerConfig()

    # -- evidence ------------------------------------------------------------------
    def _idf(self):
        bm = self.retriever.lexical.bm25
        return idf_from_bm25(bm.vocab, bm.idf) if bm is not None else (lambda t: 1.0)

    def _embed(self, texts: list[str]) -> np.ndarray:
        dense = self.retriever.dense
        assert dense is not None
        return dense.embedder.embed_queries(texts)

    def relevance(self, question: str, hits: list[Hit]) -> Relevance:
        if not hits:
            return Relevance(0.0, 0.0)
        idf = self._idf()
        q = [t for t in tokenize_query(question)]
        total = sum(idf(t) for t in set(q)) or 1.0
        cov = 0.0
        for h in hits[:3]:
            toks = set(tokenize_query(f"{h.chunk.context}\n{h.chunk.text}"))
            cov = max(cov, sum(idf(t) for t in set(q) if t in toks) / total)
        dense = max((h.scores.get("dense", -1.0) for h in hits[:3]), default=-1.0)
        return Relevance(cov, dense)

    # -- public API ------------------------------------------------------------------
    def ask(self, question: str, backend: str = "extractive", flt: SearchFilter | None = None) -> Answer:
        final: Answer | None = None
        for ev in self.stream(question, backend, flt):
            if ev["type"] == "final":
                final = ev["answer"]
        assert final is not None
        return final

    def stream(self, question: str, backend: str = "extractive",
               flt: SearchFilter | None = None) -> Iterator[dict[str, Any]]:
        """Events: ``{"type": "token", "text": …}`` then ``{"type": "final", "answer": Answer}``."""
        t0 = time.perf_counter()
        hits = self.retriever.search(question, k=self.config.k, flt=flt)
        t_search = time.perf_counter()
        rel = self.relevance(question, hits)
        timings = {"retrieve": (t_search - t0) * 1000}
        if not rel.ok(self.config):
            ans = Answer(text=REFUSAL, refused=True, hits=hits, backend=backend, timings_ms=timings,
                         notes=[f"relevance coverage={rel.coverage:.2f} dense={rel.dense:.2f}"])
            timings["first_token"] = timings["total"] = (time.perf_counter() - t0) * 1000
            yield {"type": "token", "text": ans.text}
            yield {"type": "final", "answer": ans}
            return
        sources = hits[: self.config.sources]
        if backend == "extractive":
            ans = self.extractive(question, sources)
            timings["first_token"] = (time.perf_counter() - t0) * 1000
            yield {"type": "token", "text": ans.text}
        else:
            ans = None
            for ev in self._generate(question, sources, backend, t0, timings):
                if ev["type"] == "final":
                    ans = ev["answer"]
                else:
                    yield ev
            assert ans is not None
        ans.hits = hits
        timings["total"] = (time.perf_counter() - t0) * 1000
        ans.timings_ms = timings
        yield {"type": "final", "answer": ans}

    # -- extractive ------------------------------------------------------------------
    def extractive(self, question: str, sources: list[Hit]) -> Answer:
        idf = self._idf()
        q = set(tokenize_query(question))
        total = sum(idf(t) for t in q) or 1.0
        scored: list[tuple[float, int, int, str]] = []  # (score, source, position, unit)
        for si, h in enumerate(sources):
            for pos, u in enumerate(units(h.chunk.text)):
                if _HEADING_RE.match(u):
                    continue
                toks = set(tokenize_query(u))
                s = sum(idf(t) for t in q if t in toks) / total
                # earlier (better-ranked) sources win ties
                scored.append((s / (1 + 0.15 * si), si, pos, u))
        if not scored:
            return Answer(text=REFUSAL, refused=True, backend="extractive")
        scored.sort(key=lambda x: -x[0])
        best = scored[0][0]
        chosen: list[tuple[float, int, int, str]] = []
        size = 0
        for item in scored:
            if len(chosen) >= self.config.max_units or item[0] < 0.5 * best or item[0] <= 0:
                break
            if size + len(item[3]) > self.config.max_chars and chosen:
                continue
            chosen.append(item)
            size += len(item[3])
        markers: dict[int, int] = {}
        quotes: dict[int, list[str]] = {}
        for _, si, _, u in sorted(chosen, key=lambda x: (x[1], x[2])):
            markers.setdefault(si, len(markers) + 1)
            quotes.setdefault(si, []).append(u)
        lines = []
        for si, m in markers.items():
            h = sources[si]
            head = h.chunk.citation.label
            body = " ".join(quotes[si])
            lines.append(f"{head}: {body} [{m}]")
        cites = [CitedSource(marker=m, chunk=sources[si].chunk, quote="\n".join(quotes[si]), score=best)
                 for si, m in markers.items()]
        return Answer(text="\n".join(lines), refused=False, citations=cites, backend="extractive")

    # -- generative ------------------------------------------------------------------
    def _generate(self, question: str, sources: list[Hit], backend: str, t0: float,
                  timings: dict[str, float]) -> Iterator[dict[str, Any]]:
        from dasan.llm.base import GenerationParams
        from dasan.rag.prompts import build_messages

        llm = self.backends[backend]
        messages = build_messages(question, sources)
        parts: list[str] = []
        params = GenerationParams(**self.config.generation)
        for delta in llm.stream(messages, params):
            if not parts:
                timings["first_token"] = (time.perf_counter() - t0) * 1000
            parts.append(delta)
            yield {"type": "token", "text": delta}
        timings["generate"] = (time.perf_counter() - t0) * 1000 - timings["retrieve"]
        yield {"type": "final", "answer": self.verify("".join(parts), question, sources, backend)}

    def verify(self, raw: str, question: str, sources: list[Hit], backend: str) -> Answer:
        """Keep only sentences a source supports; cite that source. Falls back to extractive."""
        text = _MARKER_RE.sub("", raw).strip()
        sentences = [s.strip() for s in split_sentences(text) if s.strip()] if text else []
        embed = self._embed if self.retriever.dense is not None else None
        checker = SupportChecker(idf=self._idf(), embed=embed)
        supports = checker.best_support(sentences, [h.chunk.text for h in sources])
        kept: list[str] = []
        markers: dict[int, int] = {}
        best_quote: dict[int, tuple[float, str]] = {}
        removed = 0
        for sent, sup in zip(sentences, supports, strict=True):
            if sup is None:
                removed += 1
                continue
            m = markers.setdefault(sup.source, len(markers) + 1)
            kept.append(f"{sent} [{m}]")
            quote = _best_unit(sent, sources[sup.source].chunk.text, checker)
            if sup.score > best_quote.get(sup.source, (-1.0, ""))[0]:
                best_quote[sup.source] = (sup.score, quote)
        notes = [f"근거 없는 문장 {removed}개 제거"] if removed else []
        if not kept:
            ans = self.extractive(question, sources)
            ans.backend = backend
            ans.notes = [*notes, "생성 답변에 근거가 확인된 문장이 없어 원문 발췌로 대체"]
            return ans
        cites = [CitedSource(marker=m, chunk=sources[si].chunk, quote=best_quote[si][1], score=best_quote[si][0])
                 for si, m in markers.items()]
        return Answer(text=" ".join(kept), refused=False, citations=cites, backend=backend, notes=notes)


def _best_unit(sentence: str, source: str, checker: SupportChecker) -> str:
    from dasan.korean.tokenize import tokenize

    toks = tokenize(sentence)
    best, best_s = source[:200], -1.0
    for u in units(source):
        s = checker.lexical(toks, set(tokenize(u)))
        if s > best_s:
            best, best_s = u, s
    return best
