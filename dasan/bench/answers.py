"""Answer quality and latency per backend, in one run over the same retrieval."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dasan.bench.ingest import machine
from dasan.bench.metrics import Result, collapse, hits_gold, percentile, source_stem
from dasan.bench.retrieval import bench_data_dir, ingest_corpus, load_questions
from dasan.rag.answer import Answerer
from dasan.rag.extract import clear_unit_tokens
from dasan.rag.retrieve import Retriever
from dasan.store import open_store
from dasan.types import SentenceCheck

_WS = re.compile(r"\s+")
EARLY_CHARS = 150  # "says it first": the keywords within what a reader sees first


def _norm(s: str) -> str:
    return _WS.sub("", s)


def score_answer(q: dict[str, Any], text: str, refused: bool,
                 citations: list[str] | list[Result]) -> dict[str, float]:
    """``citations``: the cited chunks' labels, or :class:`Result` (label, source-file stem,
    kind) so that a gold entry naming a document (a press release's file stem) can hit.
    ``articles`` counts the distinct articles (statutes) or documents cited."""
    gold = [g for g in q.get("gold") or [] if g.strip()]
    if not gold:
        return {"refused_unanswerable": float(refused)}
    distinct = collapse(citations)
    units = {r.unit for r in distinct}
    breadth = {"articles": float(len(units)), "chars": float(len(text))}
    kw = q.get("answer_keywords") or []
    hit = (not refused) and all(_norm(k) in _norm(text) for k in kw)
    early = (not refused) and all(_norm(k) in _norm(text[:EARLY_CHARS]) for k in kw)
    cited = (not refused) and any(hits_gold(c, g) for c in citations for g in gold)
    out = {"keyword_hit": float(hit), "keyword_hit_early": float(early), "citation_hit": float(cited),
           "refused": float(refused), **breadth}
    if not refused and units:
        # citation precision: the share of the distinct articles/documents cited that are gold
        good = {r.unit for r in distinct if any(hits_gold(r, g) for g in gold)}
        out["citation_precision"] = len(good) / len(units)
    return out


def score_generated(q: dict[str, Any], generated: list[SentenceCheck] | None, generated_text: str | None,
                    sources: list[Result]) -> dict[str, float]:
    """What a language model's own sentences achieve, apart from the quotes Dasan appends.

    ``generated``: every sentence the model wrote with the support checker's verdict (see
    :meth:`dasan.rag.answer.Answerer.verify`); ``sources``: the supporting source of each
    *supported* sentence, in order, as :class:`Result`. Empty when no model wrote any part of
    the answer (extractive answers, refusals): the metrics are then absent, not perfect.

    - ``generated_support``: share of the model's sentences a source supports;
    - ``generated_citation_hit``: a supported sentence cites a gold article (or release);
    - ``generated_citation_precision``: share of the distinct articles the supported sentences
      cite that are gold;
    - ``generated_keyword_hit``: the model's kept sentences alone contain every answer keyword.
    """
    if generated is None:
        return {}
    out = {"generated_sentences": float(len(generated))}
    if generated:
        out["generated_support"] = sum(s.supported for s in generated) / len(generated)
    gold = [g for g in q.get("gold") or [] if g.strip()]
    if not gold:
        return out
    kw = q.get("answer_keywords") or []
    text = generated_text or ""
    out["generated_keyword_hit"] = float(bool(text) and all(_norm(k) in _norm(text) for k in kw))
    out["generated_citation_hit"] = float(any(hits_gold(r, g) for r in sources for g in gold))
    units = {r.unit for r in collapse(sources)}
    if units:
        good = {r.unit for r in collapse(sources) if any(hits_gold(r, g) for g in gold)}
        out["generated_citation_precision"] = len(good) / len(units)
    return out


def bench_answers(corpus: list[str], questions_path: Path, backends: list[str], *,
                  data_dir: Path | None = None, limit: int | None = None, cold: bool = False,
                  model: str | None = None, profile: str = "default",
                  log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """``model``: the language-model adapter the llama-cpp backend applies (``base``: none; a
    ``dasan train llm`` model name; default: the one chosen with ``dasan models use``).
    ``profile="field"``: every question is answered by the three-part field answer
    (dasan.apps.field.answer; reported as backend ``field``) instead of the answerer.
    ``cold``: the persistent embedding cache and the in-process unit-token cache are
    bypassed, so every passage unit an answer reads is analysed and embedded afresh (the
    latency of a question about articles nobody asked about before)."""
    questions = load_questions(questions_path)[:limit]
    ddir = data_dir or bench_data_dir(corpus)
    store = open_store(ddir)
    ingest_corpus(store, corpus)
    retriever = Retriever(store, ddir)
    retriever.refresh()
    if cold and retriever.dense is not None:
        retriever.dense.embedder = getattr(retriever.dense.embedder, "inner", retriever.dense.embedder)
    llms = {}
    for b in backends:
        if b not in ("extractive", "field") and profile != "field":
            from dasan.llm import get_backend

            opts = {"adapter": model} if model and b.replace("_", "-") in ("llama-cpp", "llamacpp") else {}
            llms[b] = get_backend(b, **opts)
    answerer = Answerer(retriever, llms)
    docs = {d.id: (source_stem(d.source_path), d.kind) for d in store.list_documents()}

    def cited(ans: Any) -> list[Result]:
        return [Result(c.chunk.citation.label, *docs.get(c.chunk.document_id, ("", ""))) for c in ans.citations]

    if profile == "field":
        backends = ["field"]

    def field_ask(question: str) -> tuple[str, bool, list[Result], float]:
        from dasan.apps.field.answer import field_answer

        t0 = time.perf_counter()
        fa = field_answer(question, retriever, store)
        ms = (time.perf_counter() - t0) * 1000
        # a records citation names its register (the document stem) and its row
        cites = [Result(c["citation"], *docs.get(c.get("document_id", ""), ("", ""))) for c in fa.citations()]
        return fa.text(), fa.refused, cites, ms

    def generated_sources(ans: Any) -> list[Result]:
        return [Result(s.citation or "", *docs.get(s.document_id or "", ("", "")))
                for s in ans.generated or [] if s.supported]

    out: dict[str, Any] = {}
    for b in backends:
        rows, ttft, total = [], [], []
        t_start = time.perf_counter()
        for q in questions:
            if cold:
                clear_unit_tokens()
            if b == "field":
                text, refused, cites, ms = field_ask(q["question"])
                ttft.append(ms)
                total.append(ms)
                rows.append(score_answer(q, text, refused, cites))
                continue
            ans = answerer.ask(q["question"], b)
            ttft.append(ans.timings_ms.get("first_token", ans.timings_ms.get("total", 0.0)))
            total.append(ans.timings_ms.get("total", 0.0))
            rows.append(score_answer(q, ans.text, ans.refused, cited(ans))
                        | score_generated(q, ans.generated, ans.generated_text, generated_sources(ans)))
        answerable = [r for r in rows if "keyword_hit" in r]
        unanswerable = [r for r in rows if "refused_unanswerable" in r]

        def mean(xs: list[float]) -> float | None:
            return round(sum(xs) / len(xs), 4) if xs else None

        categories: dict[str, list[dict[str, float]]] = {}
        for q, r in zip(questions, rows, strict=True):
            categories.setdefault(str(q.get("category") or "-"), []).append(r)
        by_category = {}
        for cat, rs in categories.items():
            ans_rows = [r for r in rs if "keyword_hit" in r]
            shown = [r["chars"] for r in ans_rows if not r["refused"]]
            by_category[cat] = {"n": len(rs)} | ({
                "keyword_hit": mean([r["keyword_hit"] for r in ans_rows]),
                "citation_accuracy": mean([r["citation_hit"] for r in ans_rows]),
                "citation_precision": mean([r["citation_precision"] for r in ans_rows if "citation_precision" in r]),
                "false_refusal": mean([r["refused"] for r in ans_rows]),
                "answer_chars_p50": round(percentile(shown, 50), 1) if shown else None,
            } if ans_rows else {"refusal_unanswerable": mean([r["refused_unanswerable"] for r in rs])})
        out[b] = {
            "keyword_hit": mean([r["keyword_hit"] for r in answerable]),
            # every keyword within the answer's first EARLY_CHARS characters: does it say it first?
            "keyword_hit_early": mean([r["keyword_hit_early"] for r in answerable]),
            "citation_accuracy": mean([r["citation_hit"] for r in answerable]),
            # share of the articles/documents an answer cites that are gold (accuracy only asks
            # whether any one is): broad answers score high accuracy and low precision
            "citation_precision": mean([r["citation_precision"] for r in answerable if "citation_precision" in r]),
            "false_refusal": mean([r["refused"] for r in answerable]),
            "refusal_unanswerable": mean([r["refused_unanswerable"] for r in unanswerable]),
            # how broad the answers are: citation accuracy rises with every article quoted
            "articles_per_answer": mean([r["articles"] for r in answerable if not r["refused"]]),
            "answer_chars_p50": round(percentile([r["chars"] for r in answerable if not r["refused"]], 50), 1)
            if any(not r["refused"] for r in answerable) else None,
            # What the model's own sentences achieve, apart from the quotes appended after them
            # (None — absent — for the extractive backend: no model wrote anything).
            "generated_answers": sum(1 for r in rows if "generated_sentences" in r),
            "generated_support": mean([r["generated_support"] for r in rows if "generated_support" in r]),
            "generated_keyword_hit": mean([r["generated_keyword_hit"] for r in rows if "generated_keyword_hit" in r]),
            "generated_citation_accuracy": mean([r["generated_citation_hit"] for r in rows
                                                 if "generated_citation_hit" in r]),
            "generated_citation_precision": mean([r["generated_citation_precision"] for r in rows
                                                  if "generated_citation_precision" in r]),
            "ttft_p50_ms": round(percentile(ttft, 50), 1),
            "ttft_p95_ms": round(percentile(ttft, 95), 1),
            "total_p50_ms": round(percentile(total, 50), 1),
            "total_p95_ms": round(percentile(total, 95), 1),
            "by_category": by_category,  # question sets with a ``category`` field (press_qa_dev: fact, when …)
        }
        log(f"{b}: {out[b]} ({time.perf_counter() - t_start:.0f}s)")
    store.close()
    n_ans = sum(1 for q in questions if q.get("gold"))
    return {"n": len(questions), "answerable": n_ans, "unanswerable": len(questions) - n_ans,
            "cold": cold, "machine": machine(), "backends": out}
