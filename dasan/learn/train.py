"""``dasan train``: a learned ranker from an answered-question archive.

1. read the archive and mine labelled questions (:mod:`dasan.learn.mine`), evaluation questions
   kept out by id and near-duplicate text;
2. build the archive memory (Kiwi tokens and e5 query vectors of the labelled questions);
3. for every training question, take the current index's hybrid candidates (hard negatives:
   well-ranked articles the official answer did not cite) plus the archive's evidence, computed
   without the question itself and its near-copies (leave-one-out), and the feature vectors;
4. fit the logistic ranker (5-fold cross-validation first, for the report; then on everything);
5. write the model folder with its provenance and publish it under the data directory.

The document encoder is not changed, so the index is never re-embedded for a model like this.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dasan.learn import registry
from dasan.learn.archive import archive_files, file_digest, read_archive
from dasan.learn.dedup import NEAR_DUPLICATE, ShingleIndex
from dasan.learn.labels import ArticleCatalog
from dasan.learn.memory import AnswerMemory
from dasan.learn.mine import Mined, mine, read_eval_questions
from dasan.learn.ranker import DEPTH, FEATURES, Gate, LogisticModel, features, fit
from dasan.rag.retrieve import RankStages, Retriever
from dasan.types import article_key

MODEL_KIND = "archive-memory-ranker"
MODEL_FORMAT = 1


def catalog_of(store: Any) -> ArticleCatalog:
    arts = []
    for r in store.index_rows(with_text=False):
        if r.kind != "law":
            continue
        meta = json.loads(r.meta)
        if meta.get("addendum"):
            continue
        arts.append((r.title, article_key(r.citation), str(meta.get("article_title") or "")))
    return ArticleCatalog(arts)


@dataclass
class Example:
    id: str
    x: np.ndarray
    y: np.ndarray
    hybrid_hit_rank: int | None  # rank of the first cited article in the hybrid order (1-based)


def _metrics(examples: list[Example], model: LogisticModel | None) -> dict[str, float]:
    """R@1/R@5/MRR@10 over examples with a label, of the model's order (None: the hybrid's)."""
    r1 = r5 = mrr = 0.0
    n = 0
    for ex in examples:
        if not ex.y.any():
            continue
        n += 1
        if model is None:
            rank = ex.hybrid_hit_rank
        else:
            order = np.argsort(-model.logit(ex.x), kind="stable")
            hits = np.nonzero(ex.y[order])[0]
            rank = int(hits[0]) + 1 if hits.size else None
        if rank is not None:
            r1 += rank <= 1
            r5 += rank <= 5
            mrr += 1.0 / rank if rank <= 10 else 0.0
    n = max(n, 1)
    return {"recall@1": round(r1 / n, 4), "recall@5": round(r5 / n, 4), "mrr@10": round(mrr / n, 4)}


def _allowed(mask: np.ndarray | None) -> Callable[[int], bool]:
    return (lambda r: True) if mask is None else (lambda r: bool(mask[r]))


def hybrid_stages(retriever: Retriever, questions: list[str],
                  log: Callable[[str], None] = lambda s: None) -> list[RankStages]:
    """The hybrid's candidates (hard negatives included), tokens and query vector of each
    question, with no learned stage: what search computes for it at query time."""
    saved = retriever.ranker_override, retriever.config.model
    retriever.ranker_override, retriever.config.model = None, None
    out: list[RankStages] = []
    t0 = time.perf_counter()
    try:
        for n, question in enumerate(questions, 1):
            out.append(retriever.rank_stages(question, DEPTH))
            if n % 250 == 0:
                log(f"  검색 후보 {n}/{len(questions)} ({time.perf_counter() - t0:.0f}초)")
    finally:
        retriever.ranker_override, retriever.config.model = saved
    return out


def build_examples(retriever: Retriever, memory: AnswerMemory, memory_questions: list[str],
                   queries: list[tuple[str, str, list[str]]], stages: list[RankStages], gate: Gate) -> list[Example]:
    """``queries``: (record id, question, cited article keys; empty for a negative); the archive's
    evidence for each leaves out the question itself and its near-copies (leave-one-out)."""
    dup = ShingleIndex(memory_questions)  # row-aligned with the memory
    out: list[Example] = []
    for (rid, question, labels), st in zip(queries, stages, strict=True):
        exclude = {i for i, _ in dup.similar(question, NEAR_DUPLICATE)}
        if rid in memory.row_of:
            exclude.add(memory.row_of[rid])
        ev = memory.evidence(st.tokens, st.vector if st.vector.size else None, exclude)
        _rows, keys, x, _ = features(st.fused, retriever.article_of, ev, retriever.article_row,
                                     _allowed(st.mask), gate=gate)
        y = np.array([k in labels for k in keys], dtype=np.float64)
        gold_rank = next((i + 1 for i, (r, _, _) in enumerate(st.fused[:DEPTH])
                          if retriever.article_of(r) in labels), None)
        out.append(Example(rid, x, y, gold_rank))
    return out


def archive_gate(memory: AnswerMemory, questions: list[str]) -> Gate:
    """The gate (:class:`dasan.learn.ranker.Gate`) from the archive's own leave-one-out
    nearest-neighbour cosines (near-copies of a question are not its neighbours)."""
    if memory.vectors is None or len(memory) < 20:
        return Gate()
    dup = ShingleIndex(questions)
    v = memory.vectors
    best = np.empty(len(v), dtype=np.float64)
    for i in range(len(v)):
        cos = v @ v[i]
        cos[i] = -1.0
        for j, _ in dup.similar(questions[i], NEAR_DUPLICATE):
            cos[j] = -1.0
        best[i] = float(cos.max())
    return Gate.from_neighbour_cosines(best)


def cross_validate(examples: list[Example], folds: int = 5, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    fold_of = rng.integers(0, folds, len(examples))
    held: list[tuple[Example, LogisticModel]] = []
    for f in range(folds):
        train = [(e.x, e.y) for e, g in zip(examples, fold_of, strict=True) if g != f and len(e.y)]
        model = fit(train)
        held.extend((e, model) for e, g in zip(examples, fold_of, strict=True) if g == f)
    by_model: dict[int, list[Example]] = {}
    models: dict[int, LogisticModel] = {}
    for e, m in held:
        by_model.setdefault(id(m), []).append(e)
        models[id(m)] = m
    learned = {"recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}
    total = 0
    for key, exs in by_model.items():
        n = sum(1 for e in exs if e.y.any())
        m = _metrics(exs, models[key])
        for k in learned:
            learned[k] += m[k] * n
        total += n
    learned = {k: round(v / max(total, 1), 4) for k, v in learned.items()}
    return {"folds": folds, "questions": total, "hybrid": _metrics(examples, None), "learned": learned}


def train(store: Any, retriever: Retriever, data_dir: Path, archive: Iterable[str | Path], *,
          exclude: Iterable[str | Path] = (), name: str | None = None, limit: int | None = None,
          max_negatives: int = 1000, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Train, write and publish a model; returns its manifest (``use`` is the caller's choice)."""
    t_start = time.perf_counter()
    name = registry.check_name(name or registry.default_name())
    archive = list(archive)
    files = archive_files(archive)
    exclude = [Path(p) for p in exclude]
    warnings: list[str] = []
    records = read_archive(archive, warn=warnings.append)
    for w in warnings[:20]:
        log(w)
    retriever.refresh()
    catalog = catalog_of(store)
    if not len(catalog):
        from dasan.errors import ConfigError

        raise ConfigError("색인에 법령 조문이 없습니다. 법령을 먼저 수집하세요 (`dasan ingest 법령폴더`).")
    evalq = read_eval_questions(exclude)
    mined: Mined = mine(records, catalog, evalq, max_negatives=max_negatives)
    positives, negatives = mined.positives, mined.negatives
    if limit is not None:
        positives, negatives = positives[:limit], negatives[: max(1, limit // 2)]
    log(f"기록 {len(records)}건: 학습 질문 {len(positives)}건(조문 {sum(len(x) for _, x in positives)}개), "
        f"근거 없음 {len(negatives)}건, 평가 질문과 겹쳐 제외 {len(mined.excluded)}건")
    if not positives:
        from dasan.errors import ConfigError

        raise ConfigError("색인된 조문을 인용한 답변이 하나도 없어 학습할 수 없습니다. 기록의 답변이 「법령명」 제N조처럼 "
                          "조문을 인용하는지, 그 법령이 수집되어 있는지 확인하세요.")
    from dasan.korean.tokenize import tokenize_many

    t0 = time.perf_counter()
    queries = [(r.id, r.question, lab) for r, lab in positives] + [(r.id, r.question, []) for r in negatives]
    stages = hybrid_stages(retriever, [q for _, q, _ in queries], log)
    log(f"검색 후보 {len(stages)}건 ({time.perf_counter() - t0:.0f}초)")
    # The memory holds the labelled questions only: with the unlabelled ones (answered by statutes
    # that are not indexed) as well, realqa_dev gained R@5 0.693 vs 0.667 but law_qa_dev lost
    # 0.04 (0.882 vs 0.922), their votes diluting evidence for questions outside the archive.
    # Its vectors embed each whole question: measured against embedding what search embeds for a
    # long question (its asking part, ≤120 characters), whole questions gave realqa_dev R@5 0.667
    # vs 0.633 and law_qa_dev 0.922 vs 0.882 — the archive question's situation is evidence too.
    members = list(positives)
    tokens = tokenize_many([r.search_text for r, _ in members])
    vectors = None
    if retriever.dense is not None:
        vectors = np.asarray(retriever.dense.embedder.embed_queries([r.question for r, _ in members]),
                             dtype=np.float32)
    memory = AnswerMemory([r.id for r, _ in members], [lab for _, lab in members], tokens, vectors)
    gate = archive_gate(memory, [r.question for r, _ in members])
    log(f"질의응답 기억 {len(memory)}건; 적용 구간: 가장 가까운 기록 코사인 {gate.low:.3f}(0) ~ {gate.high:.3f}(1)")
    examples = build_examples(retriever, memory, [r.question for r, _ in members], queries, stages, gate)
    log(f"학습 예제 {len(examples)}개")
    cv = cross_validate(examples) if len(examples) >= 10 else None
    if cv:
        log(f"5겹 교차검증 (학습 질문): 하이브리드 R@5 {cv['hybrid']['recall@5']} MRR {cv['hybrid']['mrr@10']} → "
            f"학습 모델 R@5 {cv['learned']['recall@5']} MRR {cv['learned']['mrr@10']}")
    model = fit([(e.x, e.y) for e in examples if len(e.y)])
    model.gate = gate
    tmp = registry.staging_dir(data_dir, name)
    try:
        memory.save(tmp)
        (tmp / "ranker.json").write_text(json.dumps(model.to_json(), indent=2), encoding="utf-8")
        with (tmp / "training.jsonl").open("w", encoding="utf-8") as f:
            for r, lab in positives:
                f.write(json.dumps({"id": r.id, "role": "positive", "labels": lab}, ensure_ascii=False) + "\n")
            for r in negatives:
                f.write(json.dumps({"id": r.id, "role": "negative"}, ensure_ascii=False) + "\n")
            for rid, why in sorted(mined.excluded.items()):
                f.write(json.dumps({"id": rid, "role": "excluded", "reason": why}, ensure_ascii=False) + "\n")
        manifest = {
            "name": name,
            "kind": MODEL_KIND,
            "format": MODEL_FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "features": list(FEATURES),
            "weights": dict(zip(FEATURES, (round(float(w), 4) for w in model.weights), strict=True)),
            "bias": round(model.bias, 4),
            "gate": {"low": round(gate.low, 4), "high": round(gate.high, 4)},
            "query_encoder": getattr(retriever.config, "embedder", None),
            "document_encoder": None,  # unchanged: the index keeps its vectors (no re-embedding)
            "statute_articles": len(catalog),
            "training": {
                "archive": [{"file": str(p), "sha256": file_digest(p)} for p in files],
                "records": len(records),
                "label_rule": "cited article exists in the index today and a word of its current title "
                              "occurs in the answer (dasan/learn/labels.py)",
                "excluded_eval_files": [{"file": str(p), "sha256": file_digest(p), "questions": sum(
                    1 for q in evalq if q.source == p.name)} for p in exclude],
                "near_duplicate_jaccard": NEAR_DUPLICATE,
                **mined.summary(),
                "used_positives": len(positives),
                "used_negatives": len(negatives),
                "limit": limit,
                "ids": "training.jsonl",
            },
            "cross_validation": cv,
            "seconds": round(time.perf_counter() - t_start, 1),
            "machine": f"{platform.machine()} {platform.system()}",
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        registry.publish(data_dir, tmp, name)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def training_ids(model_dir: Path) -> set[str]:
    """Ids of the records a model learned from (positives, negatives and memory)."""
    out = set()
    path = model_dir / "training.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            if obj.get("role") in ("positive", "negative"):
                out.add(obj["id"])
    return out
