"""Grounded answers: retrieve → gate → compose → verify → cite.

Backends:

- ``extractive`` (no language model): opens with the one source unit (a statute 항·호 line or
  a sentence) that best states what was asked, then quotes the units that support it,
  verbatim, with their citations (see :mod:`dasan.rag.extract`);
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
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

from dasan.errors import DasanError
from dasan.korean.legal_terms import default_thesaurus
from dasan.korean.sentences import split_sentences
from dasan.korean.tokenize import tokenize, tokenize_query
from dasan.llm.base import level_allows
from dasan.rag.answer_type import expected_types, measured, unanswered_kind, with_object_particle
from dasan.rag.extract import (
    QUOTES_HEADING,
    ComposeConfig,
    article_texts,
    compose,
    score_articles,
    unit_tokens,
)
from dasan.rag.retrieve import Retriever, SearchFilter
from dasan.rag.support import SupportChecker, idf_from_bm25, units
from dasan.rag.timewords import TimeWindow, release_window
from dasan.types import LEVELS, Answer, Chunk, CitedSource, Hit, SentenceCheck

REFUSAL = "제공된 문서에서 근거를 찾지 못했습니다."
_MARKER_RE = re.compile(r"\s*\[\d+(?:\s*[,，]\s*\d+)*\]")


@dataclass
class AnswerConfig:
    k: int = 5  # passages retrieved
    sources: int = 3  # passages offered to the composer
    prompt_sources: int = 2  # passages put into a language model's prompt (prompt length drives TTFT)
    # Relevance gate (calibrated on ../shared/bench/law_qa_dev.jsonl): answer when the best passages
    # are semantically close, or contain a fair IDF-weighted share of the question's terms and
    # are at least loosely related.
    min_coverage: float = 0.2
    min_dense: float = 0.875
    floor_dense: float = 0.84  # below this cosine, shared words alone are not enough
    compose: ComposeConfig = field(default_factory=ComposeConfig)
    generation: dict[str, Any] = field(default_factory=lambda: {"max_tokens": 256, "temperature": 0.0})


@dataclass
class Relevance:
    coverage: float
    dense: float | None

    def ok(self, cfg: AnswerConfig) -> bool:
        if self.dense is None:  # lexical-only retrieval: shared words are the only evidence
            return self.coverage >= cfg.min_coverage
        return self.dense >= cfg.min_dense or (self.coverage >= cfg.min_coverage and self.dense >= cfg.floor_dense)


@dataclass
class _Plan:
    """What :meth:`Answerer.stream` read from the index, for the (model's) answer."""

    hits: list[Hit]
    ext: Answer  # the extractive answer (what a model is shown, or the answer itself)
    backend: str  # the backend that answers (after routing by level)
    requested: str
    reason: str | None  # why another backend than the requested one answers
    sources_level: str
    timings: dict[str, float]


class Answerer:
    """``now``: the date relative times in a question ("지난달 발표한") are resolved against;
    None (default) uses the newest 보도일 among the releases the asker may see (the store's
    "as of" date), see :meth:`press_scope`."""

    def __init__(self, retriever: Retriever, backends: dict[str, Any] | None = None,
                 config: AnswerConfig | None = None, now: date | None = None) -> None:
        self.retriever = retriever
        self.backends = backends or {}
        self.config = config or AnswerConfig()
        self.now = now
        self.press_config: Any = None  # dasan.apps.press.qa.PressQAConfig (None: its defaults)

    # -- press releases ----------------------------------------------------------------------
    def press_scope(self, question: str, flt: SearchFilter | None) -> tuple[bool, SearchFilter | None, TimeWindow | None]:
        """Whether the store holds releases the asker may see, and the filter narrowed by the
        publishing time the question names ("3월에 발표한 …": 보도일 bounds inside the search)."""
        if flt is not None and flt.kinds and "press" not in flt.kinds:
            return False, flt, None
        latest = self.retriever.latest_date(flt)  # one pass over the access columns per question
        if latest is None:  # no release the asker may see: statutes and documents as before
            return False, flt, None
        ref = self.now or date.fromisoformat(latest)
        window = release_window(question, ref)
        if window is None:
            return True, flt, None
        base = flt or SearchFilter()
        lo = max(x for x in (base.date_from, window.date_from) if x) if (base.date_from or window.date_from) else None
        hi = min(x for x in (base.date_to, window.date_to) if x) if (base.date_to or window.date_to) else None
        return True, replace(base, kinds=("press",), date_from=lo, date_to=hi), window

    # -- evidence ------------------------------------------------------------------
    def _idf(self):
        bm = self.retriever.lexical.bm25
        return idf_from_bm25(bm.vocab, bm.idf) if bm is not None else (lambda t: 1.0)

    def _embed(self, texts: list[str]) -> np.ndarray:
        dense = self.retriever.dense
        assert dense is not None
        return dense.embedder.embed_queries(texts)

    def question_terms(self, question: str) -> dict[str, float]:
        """IDF-weighted question terms; statute vocabulary added by the legal-term dictionary
        counts at ``expansion_weight`` (it names what the answer passage is likely to say)."""
        idf = self._idf()
        toks = tokenize_query(question)
        weights = {t: idf(t) for t in toks}
        cfg = self.retriever.config
        if cfg.expand_terms and cfg.expansion_weight > 0:
            for t in default_thesaurus().expand(toks).tokens:
                weights.setdefault(t, cfg.expansion_weight * idf(t))
        return weights

    @staticmethod
    def coverage(weights: dict[str, float], toks: set[str], total: float) -> float:
        return sum(w for t, w in weights.items() if t in toks) / total

    def relevance(self, question: str, hits: list[Hit]) -> Relevance:
        if not hits:
            return Relevance(0.0, 0.0)
        idf = self._idf()
        q = tokenize_query(question)
        total = sum(idf(t) for t in set(q)) or 1.0
        cov = 0.0
        for h in hits[:3]:
            toks = set(tokenize_query(f"{h.chunk.context}\n{h.chunk.text}"))
            cov = max(cov, sum(idf(t) for t in set(q) if t in toks) / total)
        if self.retriever.dense is None:
            return Relevance(cov, None)
        dense = max((h.scores.get("dense", -1.0) for h in hits[:3]), default=-1.0)
        return Relevance(cov, dense)

    def articles(self, hits: list[Hit], flt: SearchFilter | None) -> dict[str, list[Chunk]]:
        """The whole articles of the candidate hits (read once per answer)."""
        return self.retriever.article_chunks([h.chunk.id for h in hits[: self.config.compose.candidates]], flt)

    def missing_value(self, question: str, hits: list[Hit], whole: dict[str, list[Chunk]]) -> str | None:
        """What a question asks to be measured ("몇 시", "몇 데시벨", "얼마") when no candidate
        article states any such value: the sources are on the topic but do not answer it."""
        types = expected_types(question)
        if not measured(types):
            return None
        top = hits[: self.config.compose.candidates]
        return unanswered_kind(types, article_texts(top, whole, self.config.compose))

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
        """Events: ``{"type": "token", "text": …}`` then ``{"type": "final", "answer": Answer}``.

        Everything read from the index — the search, whole articles or releases, the level that
        routes the question to a model, the extractive answer — comes from one index snapshot
        pinned for that phase (:meth:`Retriever.pinned`): a document uploaded, re-levelled or
        deleted meanwhile changes the next answer, never half of this one. Only the model's
        generation runs after it (it reads nothing from the index)."""
        t0 = time.perf_counter()
        with self.retriever.pinned():
            plan = self._plan(question, backend, flt, t0)  # no yield inside: a pin belongs to its thread
        if isinstance(plan, Answer):  # a refusal, or an answer read from release headers
            yield {"type": "token", "text": plan.text}
            yield {"type": "final", "answer": plan}
            return
        timings = plan.timings
        if plan.backend == "extractive":
            ans = plan.ext
            timings["first_token"] = (time.perf_counter() - t0) * 1000
            yield {"type": "token", "text": ans.text}
        else:
            ans = None
            try:
                for ev in self._generate(question, plan.hits, plan.backend, t0, timings, plan.ext):
                    if ev["type"] == "final":
                        ans = ev["answer"]
                    else:
                        yield ev
            except DasanError as e:  # model unreachable, timed out…: never leave the user without an answer
                ans = plan.ext
                ans.backend = "extractive"
                ans.notes.append(f"{plan.backend} 답변 생성 실패로 원문 발췌로 대체: {e.message}")
                timings.setdefault("first_token", (time.perf_counter() - t0) * 1000)
            assert ans is not None
        if plan.reason:
            ans.notes.append(plan.reason)
        ans.routing = {"requested": plan.requested, "used": ans.backend, "sources_level": plan.sources_level}
        if plan.reason:
            ans.routing["reason"] = plan.reason
        ans.hits = plan.hits
        timings["total"] = (time.perf_counter() - t0) * 1000
        ans.timings_ms = timings
        yield {"type": "final", "answer": ans}

    def _plan(self, question: str, backend: str, flt: SearchFilter | None, t0: float) -> Answer | _Plan:
        """The index-reading phase of :meth:`stream`: a finished answer (a refusal, a press
        header answer) or what the answer is made from and which backend makes it."""
        requested = backend
        press, flt, window = self.press_scope(question, flt)
        ext: Answer | None = None
        whole: dict[str, list[Chunk]] | None = None

        def done(ans: Answer) -> Answer:
            ans.timings_ms["first_token"] = ans.timings_ms["total"] = (time.perf_counter() - t0) * 1000
            return ans

        if press:
            from dasan.apps.press.qa import PressAnswerer, PressQAConfig, is_document_question

            pcfg = self.press_config or PressQAConfig()
            hits = self.retriever.search(question, k=max(self.config.k, pcfg.k), flt=flt)
            timings = {"retrieve": (time.perf_counter() - t0) * 1000}
            if window is not None or is_document_question(hits):
                # Press releases (and documents filed with them): answered like a press officer
                # would (dasan/apps/press/qa.py); a model, if asked for, rewrites that answer.
                pa = PressAnswerer(self, pcfg)
                ext = pa.answer(question, hits, flt, window)
                if backend != "extractive" and pa.last_kind != "facts":
                    # a contact, a 보도일 or a list of releases is read from the headers: no model
                    ext.notes.append("보도자료 머리 정보로 답변해 모델을 쓰지 않았습니다.")
                    backend = "extractive"
                if ext.refused:
                    ext.backend = backend
                    ext.timings_ms = timings
                    return done(ext)
            else:
                hits = hits[: self.config.k]
        else:
            hits = self.retriever.search(question, k=self.config.k, flt=flt)
            timings = {"retrieve": (time.perf_counter() - t0) * 1000}
        if ext is None:
            rel = self.relevance(question, hits)
            if not rel.ok(self.config):
                return done(Answer(text=REFUSAL, refused=True, hits=hits, backend=backend, timings_ms=timings,
                                   notes=[f"relevance coverage={rel.coverage:.2f} dense={rel.dense}"]))
            whole = self.articles(hits, flt)
            missing = self.missing_value(question, hits, whole)
            if missing:
                return done(Answer(
                    text=f"{REFUSAL} 관련 조문은 찾았지만 질문하신 {with_object_particle(missing)} 정한 내용은 없습니다.",
                    refused=True, hits=hits, backend=backend, timings_ms=timings,
                    notes=[f"asked value not stated in sources: {missing}"]))
            # What a model would see: the composer's first quotes. Routing judges those and the top
            # hits, so nothing above a backend's clearance reaches it (quotes may come from any
            # candidate article, not only the top hits).
            ext = self.extractive(question, hits, flt, whole) if backend != "extractive" else None
        exposed = [h.chunk for h in hits[: self.config.sources]]
        if ext is not None:
            exposed += [c.chunk for c in ext.citations[: self.config.prompt_sources]]
        backend, reason = self.route(backend, exposed)
        if ext is None:
            ext = self.extractive(question, hits, flt, whole)
        return _Plan(hits, ext, backend, requested, reason, self.sources_level(exposed), timings)

    # -- model routing by level -----------------------------------------------------------
    def sources_level(self, chunks: list[Chunk]) -> str:
        """The highest effective level among the chunks (document, collection, embargo)."""
        return LEVELS[max((self.retriever.level_of(c.id) for c in chunks), default=0)]

    def route(self, backend: str, sources: list[Chunk]) -> tuple[str, str | None]:
        """The backend that may see ``sources``: the requested one when it is cleared for their
        level, else another configured backend that is, else ``extractive`` (no model at all)."""
        if backend == "extractive":
            return backend, None
        level = self.sources_level(sources)
        llm = self.backends.get(backend)
        if llm is not None and level_allows(llm.max_level, level):
            return backend, None
        for name, other in self.backends.items():
            if name != backend and level_allows(other.max_level, level):
                return name, f"출처 등급 {level} 자료는 {backend} 모델에 보낼 수 없어 {name} 모델로 답변했습니다."
        return "extractive", f"출처 등급 {level} 자료는 {backend} 모델에 보낼 수 없어 원문 발췌로 답변했습니다."

    # -- extractive ------------------------------------------------------------------
    def extractive(self, question: str, hits: list[Hit], flt: SearchFilter | None = None,
                   whole: dict[str, list[Chunk]] | None = None) -> Answer:
        """The unit of the retrieved articles that best states what was asked, then its
        supporting quotes (whole articles are read, units stating the asked kind of value
        preferred; see :mod:`dasan.rag.extract`)."""
        cfg = self.config.compose
        top = hits[: cfg.candidates]
        if whole is None:
            whole = self.articles(hits, flt)
        weights = self.question_terms(question)
        total = sum(weights.values()) or 1.0
        texts = article_texts(top, whole, cfg)
        lexical = {t: self.coverage(weights, toks, total) for t, toks in zip(texts, unit_tokens(texts), strict=True)}
        sims: dict[str, float] = {}
        if self.retriever.dense is not None and cfg.dense_weight > 0 and lexical:
            # Embedding units costs ≈ 10 ms each on 2 cores when not cached: only the units
            # sharing most words with the question are embedded (the rest get no semantic part).
            best = sorted(lexical, key=lambda t: -lexical[t])[: cfg.dense_units]
            embedder = self.retriever.dense.embedder
            qv = embedder.embed_queries([question])[0]
            sims = dict(zip(best, (embedder.embed_passages(best) @ qv).tolist(), strict=True))

        def cover(text: str) -> float:
            semantic = max(0.0, (sims.get(text, 0.0) - cfg.dense_floor) / (1 - cfg.dense_floor))
            return lexical.get(text, 0.0) + cfg.dense_weight * semantic

        articles = score_articles(top, whole, cover, expected_types(question), cfg)
        lines, cites = compose(articles, cfg)
        if not cites:
            return Answer(text=REFUSAL, refused=True, backend="extractive")
        return Answer(text="\n".join(lines), refused=False, citations=cites, backend="extractive")

    # -- generative ------------------------------------------------------------------
    def _generate(self, question: str, hits: list[Hit], backend: str, t0: float, timings: dict[str, float],
                  ext: Answer) -> Iterator[dict[str, Any]]:
        """The model is shown what the extractive composer (``ext``) quotes — whole articles
        read, the units stating the asked value first — not just the top chunks."""
        from dasan.llm.base import GenerationParams
        from dasan.rag.prompts import build_messages

        if ext.refused:  # nothing quotable: no model call
            timings["first_token"] = (time.perf_counter() - t0) * 1000
            yield {"type": "token", "text": ext.text}
            yield {"type": "final", "answer": ext}
            return
        llm = self.backends[backend]
        shown = ext.citations[: self.config.prompt_sources]
        messages = build_messages(question, [(c.chunk.citation.label, c.quote) for c in shown])
        parts: list[str] = []
        params = GenerationParams(**self.config.generation)
        for delta in llm.stream(messages, params):
            if not parts:
                timings["first_token"] = (time.perf_counter() - t0) * 1000
            parts.append(delta)
            yield {"type": "token", "text": delta}
        timings["generate"] = (time.perf_counter() - t0) * 1000 - timings["retrieve"]
        yield {"type": "final", "answer": self.verify("".join(parts), question, hits, backend, ext=ext)}

    def verify(self, raw: str, question: str, hits: list[Hit], backend: str,
               flt: SearchFilter | None = None, ext: Answer | None = None) -> Answer:
        """Keep only sentences a source supports; cite that source. Falls back to extractive.

        Sentences are checked against the chunks the extractive composer quotes (``ext``,
        what the model was shown) and the top ``sources`` hits; the verbatim quotes follow.
        The answer records every model sentence with its verdict (``generated``) and which
        part of ``text`` the model wrote (``generated_text``)."""
        if ext is None:
            ext = self.extractive(question, hits, flt)
        candidates = {c.chunk.id: c.chunk for c in ext.citations}
        for h in hits[: self.config.sources]:
            candidates.setdefault(h.chunk.id, h.chunk)
        sources = list(candidates.values())
        text = _MARKER_RE.sub("", raw).strip()
        sentences = [s.strip() for s in split_sentences(text) if s.strip()] if text else []
        embed = self._embed if self.retriever.dense is not None else None
        checker = SupportChecker(idf=self._idf(), embed=embed)
        supports = checker.best_support(sentences, [c.text for c in sources])
        kept: list[str] = []
        checks: list[SentenceCheck] = []
        markers: dict[str, int] = {}  # chunk id → marker
        chunks: dict[str, Chunk] = {}
        best_quote: dict[str, tuple[float, str]] = {}
        removed = 0
        for sent, sup in zip(sentences, supports, strict=True):
            if sup is None:
                removed += 1
                checks.append(SentenceCheck(sent, supported=False))
                continue
            chunk = sources[sup.source]
            chunks[chunk.id] = chunk
            m = markers.setdefault(chunk.id, len(markers) + 1)
            kept.append(f"{sent} [{m}]")
            checks.append(SentenceCheck(sent, True, m, chunk.id, chunk.document_id, chunk.citation.label,
                                        sup.lexical, sup.semantic))
            quote = _best_unit(sent, chunk.text, checker)
            if sup.score > best_quote.get(chunk.id, (-1.0, ""))[0]:
                best_quote[chunk.id] = (sup.score, quote)
        notes = [f"근거 없는 문장 {removed}개 제거"] if removed else []
        if not kept:
            ext.backend = backend
            ext.notes = [*notes, "생성 답변에 근거가 확인된 문장이 없어 원문 발췌로 대체"]
            ext.generated, ext.generated_text = checks, ""
            return ext
        # The verified model sentences come first; the verbatim quotes the extractive composer
        # would show follow, so a generated answer never cites less than the extractive one.
        quote_lines = []
        for c in ext.citations:
            chunks[c.chunk.id] = c.chunk
            m = markers.setdefault(c.chunk.id, len(markers) + 1)
            best_quote[c.chunk.id] = (max(c.score, best_quote.get(c.chunk.id, (0.0, ""))[0]), c.quote)
            quote_lines.append(f"{c.chunk.citation.label}: {' '.join(c.quote.splitlines())} [{m}]")
        generated = " ".join(kept)
        text = generated
        if quote_lines:
            text += f"\n\n{QUOTES_HEADING}\n" + "\n".join(quote_lines)
        cites = [CitedSource(marker=m, chunk=chunks[cid], quote=best_quote[cid][1], score=best_quote[cid][0])
                 for cid, m in sorted(markers.items(), key=lambda x: x[1])]
        return Answer(text=text, refused=False, citations=cites, backend=backend, notes=notes,
                      generated=checks, generated_text=generated)


def _best_unit(sentence: str, source: str, checker: SupportChecker) -> str:
    toks = tokenize(sentence)
    best, best_s = source[:200], -1.0
    for u in units(source):
        s = checker.lexical(toks, set(tokenize(u)))
        if s > best_s:
            best, best_s = u, s
    return best
