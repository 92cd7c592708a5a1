"""Retrieval quality and latency: Dasan's pipeline against baselines, in one run."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dasan import config
from dasan.bench.ingest import machine
from dasan.bench.metrics import Result, collapse, score_query, source_stem, summarise
from dasan.index.lexical import Bm25Matrix, top_k
from dasan.ingest.pipeline import discover, ingest_paths
from dasan.korean.tokenize import whitespace_tokenize
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.store import open_store


def load_questions(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: JSON 오류: {e}") from e
    return out


def bench_data_dir(corpus: list[str]) -> Path:
    key = hashlib.sha256("\0".join(sorted(str(Path(p).resolve()) for p in corpus)).encode()).hexdigest()[:12]
    return config.data_dir() / "bench" / key


def corpus_files(corpus: list[str]) -> list[Path]:
    """The files of the corpus folders, without the website listings kept beside press
    releases (``<stem>.meta.json`` next to ``<stem>.hwpx``): they are reference values for
    header extraction (``dasan bench press``), not documents, and would duplicate each
    release's title and contact under another file name."""
    files, _ = discover(corpus, recursive=True)
    stems = {(f.parent, f.name.split(".")[0]) for f in files if not f.name.endswith(".meta.json")}
    return [f for f in files if not (f.name.endswith(".meta.json") and (f.parent, f.name[: -len(".meta.json")]) in stems)]


def ingest_corpus(store: Any, corpus: list[str]) -> Any:
    """Ingest the corpus into the bench collection and drop documents no longer in it (so a
    bench store mirrors its corpus, whatever an older run ingested). Documents are dropped
    first: a file renamed with its content unchanged would otherwise be found "unchanged"
    under its old path and then removed with it."""
    files = corpus_files(corpus)
    keep = {str(f.resolve()) for f in files}
    for d in store.list_documents("bench"):
        if d.source_path not in keep:
            store.remove_document(d.id)
    return ingest_paths(store, files, collection="bench")


def pad_questions(questions: list[dict[str, Any]], chars: int, seed: int = 0) -> list[dict[str, Any]]:
    """Each question preceded by randomly drawn other questions of the set until it is
    ``chars`` characters long (the situation of a long question; the asking part stays last)."""
    rng = random.Random(seed)
    texts = [q["question"] for q in questions]
    out = []
    for q in questions:
        pad = ""
        while texts and len(pad) + len(q["question"]) + 1 < chars:
            pad += rng.choice(texts) + " "
        room = max(chars - len(q["question"]) - 1, 0)
        out.append(q | {"question": (pad[len(pad) - room:].lstrip() + " " if room else "") + q["question"]})
    return out


def run_system(name: str, rank: Callable[[str], list[Result]], questions: list[dict[str, Any]]) -> dict[str, Any]:
    per_q, lat = [], []
    for q in questions:
        t0 = time.perf_counter()
        citations = rank(q["question"])
        lat.append((time.perf_counter() - t0) * 1000)
        per_q.append(score_query(citations, q["gold"]))
    return summarise(per_q, lat)


def resolve_models(specs: list[str], home: Path) -> list[tuple[str, Any, set[str]]]:
    """``none``/``base`` (no learned stage), ``current`` (the model chosen in ``home``) or a model
    name → (label, LearnedRanker or None, ids of the records it learned from)."""
    from dasan.learn import registry
    from dasan.learn.train import training_ids

    out: list[tuple[str, Any, set[str]]] = []
    for spec in specs:
        spec = spec.strip()
        if not spec:
            continue
        name = registry.current_name(home) if spec == "current" else (None if spec in ("none", "base") else spec)
        if name is None:
            out.append(("dasan" if spec == "current" else "dasan[none]", None, set()))
            continue
        path = registry.model_path(home, name)
        label = f"dasan[{name}]" if spec != "current" else f"dasan[current={name}]"
        out.append((label, registry.load_ranker(home, name), training_ids(path)))
    return out


def bench_retrieval(corpus: list[str], questions_path: Path, *, data_dir: Path | None = None,
                    systems: tuple[str, ...] = ("dasan", "bm25-whitespace", "bm25-kiwi", "dense"),
                    retrieval: RetrievalConfig | None = None, k: int = 10, cold: bool = False,
                    pad_chars: int = 0, models: list[str] | None = None, models_home: Path | None = None,
                    log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """``cold``: questions are embedded afresh, not read from the persistent query-embedding
    cache (``index/embed-cache`` of the bench data dir), as a question nobody asked before is.
    ``pad_chars``: each question is prefixed with other questions of the set (a fixed draw)
    up to that many characters, a long situational question for latency only (its gold stays).
    ``models``: learned-model specs to compare (see :func:`resolve_models`), each run as its
    own "dasan[…]" system over the same index; default: the pipeline as configured."""
    all_questions = load_questions(questions_path)
    questions = [q for q in all_questions if q.get("gold")]
    if pad_chars:
        questions = pad_questions(questions, pad_chars)
    ddir = data_dir or bench_data_dir(corpus)
    store = open_store(ddir)
    t0 = time.perf_counter()
    report = ingest_corpus(store, corpus)
    s = report.summary()
    log(f"corpus: {s['files']} files ({s['ingested']} new, {s['unchanged']} unchanged, "
        f"{len(s['failed'])} failed) in {time.perf_counter() - t0:.1f}s")
    retriever = Retriever(store, ddir, retrieval, models_home=models_home or config.data_dir())
    if models is not None:
        retriever.config.model = None
    t0 = time.perf_counter()
    retriever.refresh()
    log(f"indexes ready: {retriever.size} chunks in {time.perf_counter() - t0:.1f}s")
    if cold and retriever.dense is not None:
        retriever.dense.embedder = getattr(retriever.dense.embedder, "inner", retriever.dense.embedder)
    rows = store.index_rows()
    assert [r.id for r in rows] == [retriever.chunk_id(i) for i in range(retriever.size)]
    stems = {d.id: source_stem(d.source_path) for d in store.list_documents()}
    # A gold entry that is not a statute citation names a document (its source-file stem);
    # press results are ranked per document, statutes per article (see dasan/bench/metrics.py).
    labels = [Result(r.citation, stems.get(r.document_id, ""), r.kind) for r in rows]
    depth = k if all(r.kind == "law" for r in labels) else k * 8  # enough chunks for k documents

    def top(ranked: list[int]) -> list[Result]:
        return collapse([labels[i] for i in ranked])[:k]

    def via(mode: str) -> Callable[[str], list[Result]]:
        return lambda q: top([r for r, _, _ in retriever.rank(q, depth, mode=mode)])  # type: ignore[arg-type]

    results: dict[str, Any] = {}
    leaks: dict[str, int] = {}
    for name in systems:
        if name == "bm25-whitespace":
            ws = Bm25Matrix([whitespace_tokenize(Retriever.index_text(r)) for r in rows])
            results[name] = run_system(
                name, lambda q, ws=ws: top([i for i, _ in top_k(ws.scores(whitespace_tokenize(q)), depth)]), questions
            )
        elif name == "bm25-kiwi":  # the lexical leg alone: no priors, boosts or collapsing
            lex = retriever.lexical
            results[name] = run_system(name, lambda q, lex=lex: top([i for i, _ in top_k(lex.scores(q), depth)]), questions)
        elif name == "dense" and retriever.dense is not None:  # the dense leg alone
            dense = retriever.dense
            results[name] = run_system(
                name, lambda q, dense=dense: top([i for i, _ in dense.search_vector(dense.embed_query(q), depth)]),
                questions
            )
        elif name == "dasan" and models is not None:
            from dasan import config as _config

            for label, ranker, trained_on in resolve_models(models, models_home or _config.data_dir()):
                retriever.ranker_override = ranker
                results[label] = run_system(label, via("hybrid"), questions)
                leaks[label] = sum(1 for q in all_questions if q.get("id") in trained_on)
                log(f"{label}: {results[label]}")
            retriever.ranker_override = None
            continue
        elif name == "dasan":
            results[name] = run_system(name, via("hybrid"), questions)
        log(f"{name}: {results.get(name)}")
    store.close()
    out = {"n": len(questions), "chunks": len(rows), "cold": cold, "pad_chars": pad_chars, "machine": machine(),
           "systems": results}
    if models is not None:
        out["questions_in_training_data"] = leaks
    return out


SUITE = (  # (name, corpus under the shared folder, questions: shared bench/… or the repo's bench/…)
    ("law_qa_dev", "data/laws", "bench/law_qa_dev.jsonl"),
    ("law_qa_heldout", "data/laws", "repo:bench/law_qa_heldout.jsonl"),
    ("law_defs", "data/laws", "bench/law_defs.jsonl"),
    ("realqa_dev", "data/laws", "bench/realqa_dev.jsonl"),
    ("press_qa_dev", "data/press-moe", "bench/press_qa_dev.jsonl"),
)


def bench_suite(models: list[str] | None = None, *, shared: Path | None = None, repo: Path | None = None,
                retrieval: RetrievalConfig | None = None, models_home: Path | None = None, cold: bool = False,
                log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Every question set of the project in one run (the shared folder's sets and the repo's
    held-out set), each with the legs and the requested models."""
    shared = shared or config.shared_dir()
    repo = repo or Path(__file__).resolve().parents[2]
    out: dict[str, Any] = {"machine": machine(), "sets": {}}
    for name, corpus, qpath in SUITE:
        qfile = repo / qpath[5:] if qpath.startswith("repo:") else shared / qpath
        if not qfile.exists() or not (shared / corpus).exists():
            log(f"{name}: 건너뜀 ({qfile} 없음)")
            continue
        log(f"== {name}")
        out["sets"][name] = bench_retrieval([str(shared / corpus)], qfile, models=models, models_home=models_home,
                                            retrieval=retrieval, cold=cold, log=log)
    return out
