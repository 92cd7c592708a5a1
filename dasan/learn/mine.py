"""Training data from an answered-question archive.

- **positives**: records whose answer cites indexed articles that pass the title check
  (:mod:`dasan.learn.labels`): question → those articles;
- **negatives**: records whose answer cites only statutes that are not indexed (``민법``,
  ``형법`` …): nothing in the corpus answers them — what teaches the ranker when to be unsure;
- **kept out**: every record whose id is an evaluation question's, or whose question is a near
  duplicate (:data:`dasan.learn.dedup.NEAR_DUPLICATE`) of one.

Hard negatives (well-ranked but uncited articles) are taken from the current index at training
time (:mod:`dasan.learn.train`)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dasan.learn.archive import Record
from dasan.learn.dedup import NEAR_DUPLICATE, ShingleIndex
from dasan.learn.labels import ArticleCatalog, cited_articles, cites_only_elsewhere, title_supported


@dataclass
class EvalQuestion:
    id: str
    question: str
    source: str


@dataclass
class Mined:
    positives: list[tuple[Record, list[str]]] = field(default_factory=list)
    negatives: list[Record] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # record id → why it was kept out
    rejected: Counter = field(default_factory=Counter)  # cited articles failing the title check
    records: int = 0

    def summary(self) -> dict[str, object]:
        reasons = Counter(v.split(":", 1)[0] for v in self.excluded.values())
        return {
            "records": self.records,
            "positives": len(self.positives),
            "labels": sum(len(lab) for _, lab in self.positives),
            "negatives": len(self.negatives),
            "excluded": dict(reasons),
            "rejected_labels": sum(self.rejected.values()),
        }


def read_eval_questions(paths: Iterable[str | Path]) -> list[EvalQuestion]:
    out = []
    for p in paths:
        p = Path(p)
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                out.append(EvalQuestion(str(obj.get("id", "")), str(obj.get("question", "")), p.name))
    return out


def eval_exclusions(records: list[Record], eval_questions: list[EvalQuestion]) -> dict[str, str]:
    """Record id → why it is kept out of training: an evaluation question's id, or a near
    duplicate of an evaluation question's text."""
    out: dict[str, str] = {}
    eval_ids = {q.id: q.source for q in eval_questions if q.id}
    near = ShingleIndex([q.question for q in eval_questions])
    for rec in records:
        if rec.id in eval_ids:
            out[rec.id] = f"eval-id:{eval_ids[rec.id]}"
            continue
        dup = near.similar(rec.question, NEAR_DUPLICATE)
        if dup:
            q = eval_questions[dup[0][0]]
            out[rec.id] = f"eval-near-duplicate:{q.source}:{q.id}:{dup[0][1]:.2f}"
    return out


def mine(records: list[Record], catalog: ArticleCatalog, eval_questions: list[EvalQuestion], *,
         max_negatives: int = 1000, seed: int = 0) -> Mined:
    out = Mined(records=len(records))
    out.excluded = eval_exclusions(records, eval_questions)
    negatives: list[Record] = []
    for rec in records:
        if rec.id in out.excluded:
            continue
        kept = []
        for info in cited_articles(rec.answer, catalog):
            if title_supported(info, rec.answer):
                kept.append(info.key)
            else:
                out.rejected[info.key] += 1
        if kept:
            out.positives.append((rec, kept))
        elif cites_only_elsewhere(rec.answer, catalog):
            negatives.append(rec)
    random.Random(seed).shuffle(negatives)
    out.negatives = sorted(negatives[:max_negatives], key=lambda r: r.id)
    return out
