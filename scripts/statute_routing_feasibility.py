"""Feasibility of refusing by statute routing, measured once (issue 13, item 5; see
docs/statute-routing.md for the numbers and why it was not integrated).

Trains the router on ../shared/data/legal-qa (evaluation questions kept out by id and
near-duplicate text) and the articles of the law bench store, chooses the threshold on the
archive (held-out records' titles, 97 % of those citing an indexed statute pass), then prints
P(indexed) for the law_qa dev and held-out questions, the AUC answerable vs unanswerable and the
refusals at the archive-chosen threshold. The held-out fit is used (``final=False``) to save time.

    PYTHONPATH=. python scripts/statute_routing_feasibility.py [--save DIR]

The router (statute routing: which statute a question is about, learnt from the archive):

An official answer names the statutes it rests on (``「주택임대차보호법」 제3조``, ``민법 제750조``,
``근로기준법 제26조``) — also statutes the store does not hold. A multinomial logistic regression
over the question's Kiwi morphemes (unigrams and bigrams, TF-IDF) learns question → cited statute
family; the indexed statutes' own articles are added as examples of their families, so that a
family the archive never cites is still recognised. The probability that a question is about
law the store holds is the summed probability of the indexed families (and of the "other" class,
in proportion to the indexed share of its training records); below the threshold chosen on the
archive an answer would refuse (not wired into dasan.rag.answer: it did not pass the gate).

Inference is numpy/scipy only; training uses :func:`scipy.optimize.minimize` (L-BFGS).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from dasan import config
from dasan.bench.retrieval import bench_data_dir, ingest_corpus
from dasan.korean.tokenize import tokenize_query
from dasan.learn.archive import read_archive
from dasan.learn.labels import ABBREVIATIONS
from dasan.learn.mine import eval_exclusions, read_eval_questions
from dasan.store import open_store

OTHER = ""  # the class of every family with too few records
ROUTER_FILES = ("routing.json", "routing.npz")

_SP = re.compile(r"\s+")
_SUBORDINATE = re.compile(r"(시행령|시행규칙)$")
_BRACKETED = re.compile(r"「([^」]{2,60})」")
# Everyday abbreviations and former names (spaces removed) → the statute family.
STATUTE_ALIASES = {
    **ABBREVIATIONS,
    "기간제법": "기간제및단시간근로자보호등에관한법률",
    "기간제및단시간근로자보호에관한법률": "기간제및단시간근로자보호등에관한법률",
    "파견법": "파견근로자보호등에관한법률",
    "근로자파견법": "파견근로자보호등에관한법률",
    "퇴직급여법": "근로자퇴직급여보장법",
    "퇴직급여보장법": "근로자퇴직급여보장법",
    "남녀고용평등법": "남녀고용평등과일ㆍ가정양립지원에관한법률",
    "노동조합법": "노동조합및노동관계조정법",
    "노조법": "노동조합및노동관계조정법",
    "산재보험법": "산업재해보상보험법",
    "산재법": "산업재해보상보험법",
    "주임법": "주택임대차보호법",
    "상가임대차보호법": "상가건물임대차보호법",
    "상임법": "상가건물임대차보호법",
    "자배법": "자동차손해배상보장법",
    "교특법": "교통사고처리특례법",
    "근로자복지기본법": "근로복지기본법",
    "사내근로복지기금법": "근로복지기본법",
    "부동산중개업법": "공인중개사법",
    "공인중개사의업무및부동산거래신고에관한법률": "공인중개사법",
    "성폭력범죄의처벌및피해자보호등에관한법률": "성폭력범죄의처벌등에관한특례법",
}
# Bracketed words that end like a statute but name none.
_NOT_NAMES = frozenset({"같은법", "동법", "이법", "본법", "위법", "구법", "신법", "관계법", "관련법", "해당법", "개정법",
                        "특별법", "노동관계법", "노동법", "같은법률", "동법률"})
_SHORT_NAMES = ("민법", "형법", "상법", "헌법")
QUESTION_WORDS = frozenset({
    "어디", "언제", "며칠", "얼마", "얼마나", "무엇", "뭐", "무슨", "누구", "어떻", "어떤", "어떠",
    "왜", "몇", "어느", "어찌", "가능", "경우", "혹시", "좀", "요",
})


def family_name(name: str) -> str:
    """``「근로기준법 시행령」`` → ``근로기준법``; ``기간제법`` → its full title (spaces removed)."""
    s = _SP.sub("", name or "").strip("「」")
    s = _SUBORDINATE.sub("", s)
    return STATUTE_ALIASES.get(s, s)


def statute_vocabulary(answers: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Statute names (spaces removed) the answers write in 「」, with the aliases, the four
    short code names and ``extra`` (the indexed families): longest first, for matching."""
    names = set(STATUTE_ALIASES) | set(STATUTE_ALIASES.values()) | set(_SHORT_NAMES) | set(extra)
    for a in answers:
        for b in _BRACKETED.findall(a):
            s = _SP.sub("", b)
            if len(s) <= 30 and re.search(r"(법|법률|규칙|시행령)$", s):
                names.add(s)
    names = {n for n in names if len(n) >= 2 and _SUBORDINATE.sub("", n) not in _NOT_NAMES
             and not n.startswith(("같은", "구", "개정"))}
    return sorted(names, key=lambda n: (-len(n), n))


def cited_statutes(answer: str, vocabulary: Sequence[str]) -> list[str]:
    """The statute families an answer names (longest names first, no overlaps; in order of
    first mention). ``vocabulary``: from :func:`statute_vocabulary`."""
    s = _SP.sub("", answer or "")
    taken = bytearray(len(s))
    found: dict[str, int] = {}
    for name in vocabulary:
        start = s.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(taken[start:end]):
                taken[start:end] = b"\1" * len(name)
                fam = family_name(name)
                found[fam] = min(found.get(fam, start), start)
            start = s.find(name, start + 1)
    return sorted(found, key=found.get)


def features(tokens: Sequence[str]) -> list[str]:
    """Morpheme unigrams and bigrams, question words left out."""
    toks = [t for t in tokens if t not in QUESTION_WORDS]
    return toks + [f"{a} {b}" for a, b in pairwise(toks)]


@dataclass
class Vectorizer:
    vocab: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, docs: Sequence[Sequence[str]], min_df: int = 2) -> Vectorizer:
        df: Counter = Counter()
        for d in docs:
            df.update(set(d))
        terms = sorted(t for t, c in df.items() if c >= min_df)
        n = len(docs)
        idf = np.array([np.log((1 + n) / (1 + df[t])) + 1 for t in terms], dtype=np.float64)
        return cls({t: i for i, t in enumerate(terms)}, idf)

    def transform(self, docs: Sequence[Sequence[str]]) -> sp.csr_matrix:
        rows, cols, vals = [], [], []
        for i, d in enumerate(docs):
            for t, n in Counter(t for t in d if t in self.vocab).items():
                j = self.vocab[t]
                rows.append(i)
                cols.append(j)
                vals.append((1 + np.log(n)) * self.idf[j])
        x = sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(self.vocab)), dtype=np.float64)
        norm = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norm[norm == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norm) @ x)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_softmax(x: sp.csr_matrix, y: np.ndarray, lam: float = 1e-5, maxiter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with soft targets ``y`` (rows summing to 1), L2 penalty
    ``lam`` on the weights; L-BFGS. Returns (weights d×K, bias K)."""
    from scipy.optimize import minimize

    n, d = x.shape
    k = y.shape[1]
    xt = x.T.tocsr()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        wm, b = w[: d * k].reshape(d, k), w[d * k:]
        z = x @ wm + b
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(z - lse)
        val = -(y * (z - lse)).sum() / n + lam / 2 * float((wm * wm).sum())
        g = (p * y.sum(axis=1, keepdims=True) - y) / n
        gw = xt @ g + lam * wm
        return val, np.concatenate([np.asarray(gw).ravel(), g.sum(axis=0)])

    res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    return res.x[: d * k].reshape(d, k), res.x[d * k:]


@dataclass
class StatuteRouter:
    """Question → statute family probabilities; :meth:`p_indexed` for a store's families."""

    classes: list[str]  # statute families; the last is OTHER
    other: dict[str, float]  # family → its share of the OTHER class's training mass
    vectorizer: Vectorizer
    weights: np.ndarray  # (features, classes) float32
    bias: np.ndarray
    threshold: float = 0.0  # refuse below this P(indexed); 0: never
    report: dict[str, Any] = field(default_factory=dict)

    def proba_tokens(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        x = self.vectorizer.transform([features(d) for d in docs])
        return softmax(np.asarray(x @ self.weights, dtype=np.float64) + self.bias)

    def indexed_weights(self, families: Iterable[str]) -> np.ndarray:
        fams = {family_name(f) for f in families}
        w = np.array([1.0 if c in fams else 0.0 for c in self.classes])
        total = sum(self.other.values())
        if self.classes and self.classes[-1] == OTHER and total > 0:
            w[-1] = sum(v for f, v in self.other.items() if f in fams) / total
        return w

    def route(self, tokens: Sequence[str], families: Iterable[str]) -> Routing:
        p = self.proba_tokens([tokens])[0]
        p_in = float(p @ self.indexed_weights(families))
        order = [int(i) for i in np.argsort(-p) if self.classes[i] != OTHER]
        top = self.classes[order[0]] if order else OTHER
        return Routing(p_in, top, float(p[order[0]]) if order else 0.0, p_in < self.threshold)

    # -- files ------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        vocab = sorted(self.vectorizer.vocab, key=self.vectorizer.vocab.get)
        meta = {"format": 1, "classes": self.classes, "other": self.other, "threshold": self.threshold,
                "vocabulary": vocab, "report": self.report}
        (folder / "routing.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        np.savez_compressed(folder / "routing.npz", weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float64), idf=self.vectorizer.idf)

    @classmethod
    def load(cls, folder: Path) -> StatuteRouter | None:
        """The router saved in a model folder (None: the model has none)."""
        if not all((folder / f).exists() for f in ROUTER_FILES):
            return None
        meta = json.loads((folder / "routing.json").read_text(encoding="utf-8"))
        arr = np.load(folder / "routing.npz")
        vec = Vectorizer({t: i for i, t in enumerate(meta["vocabulary"])}, arr["idf"])
        return cls(list(meta["classes"]), dict(meta["other"]), vec, arr["weights"], arr["bias"],
                   float(meta["threshold"]), dict(meta.get("report") or {}))


@dataclass
class Routing:
    p_indexed: float  # probability that the question is about a statute the store holds
    statute: str  # the most probable named statute family
    statute_p: float
    outside: bool  # below the router's threshold


@dataclass
class RoutingData:
    """Labelled archive questions and indexed articles, tokenised."""

    ids: list[str]
    tokens: list[list[str]]
    labels: list[list[str]]  # cited statute families per question
    title_tokens: list[list[str]]  # the record's title (a short summary), [] when none
    article_tokens: list[list[str]]
    article_families: list[str]


def routing_data(records: Sequence[Any], articles: Sequence[tuple[str, str]], *, exclude: Iterable[str] = (),
                 log: Callable[[str], None] = lambda s: None) -> RoutingData:
    """Tokenise the archive records (``dasan.learn.archive.Record``) whose answers name a statute,
    leaving out the ids in ``exclude`` (evaluation questions, see
    :func:`dasan.learn.mine.eval_exclusions`), and the indexed ``articles`` ((family, text))."""
    from dasan.korean.tokenize import tokenize_many

    skip = set(exclude)
    vocabulary = statute_vocabulary((r.answer for r in records), (f for f, _ in articles))
    kept, labels = [], []
    for r in records:
        if r.id in skip:
            continue
        lab = cited_statutes(r.answer, vocabulary)
        if lab:
            kept.append(r)
            labels.append(lab)
    log(f"법령 분류 학습: 법령을 인용한 기록 {len(kept)}건, 색인 조문 {len(articles)}개 형태소 분석 중")
    toks = tokenize_many([r.question for r in kept])
    titles = tokenize_many([r.title or "" for r in kept])
    arts = tokenize_many([t for _, t in articles])
    return RoutingData([r.id for r in kept], toks, labels, titles, arts, [family_name(f) for f, _ in articles])


def store_articles(store: Any) -> list[tuple[str, str]]:
    """(statute family, article title and text) of every statute chunk of the store."""
    from dasan.rag.query import statute_family

    out = []
    for r in store.index_rows(with_text=True):
        if r["kind"] != "law":
            continue
        meta = json.loads(r["meta"] or "{}")
        if meta.get("addendum"):
            continue
        out.append((statute_family(r["title"]), f"{meta.get('article_title') or ''}\n{r['text'] or ''}"[:1500]))
    return out


def training_matrix(data: RoutingData, rows: Sequence[int], min_records: int, vectorizer: Vectorizer,
                    ) -> tuple[sp.csr_matrix, np.ndarray, list[str], dict[str, float]]:
    """Examples from archive rows ``rows`` (question and title, soft targets over the families
    each cites) and every indexed article (its family)."""
    counts: Counter = Counter()
    for i in rows:
        counts.update(data.labels[i])
    named = sorted({f for f, c in counts.items() if c >= min_records} | set(data.article_families))
    classes = [*named, OTHER]
    col = {c: j for j, c in enumerate(classes)}
    other: Counter = Counter()
    docs: list[list[str]] = []
    targets: list[np.ndarray] = []
    for i in rows:
        y = np.zeros(len(classes))
        for f in data.labels[i]:
            j = col.get(f, len(classes) - 1)
            y[j] += 1.0 / len(data.labels[i])
            if j == len(classes) - 1:
                other[f] += 1.0 / len(data.labels[i])
        docs.append(features(data.tokens[i]))
        targets.append(y)
        if data.title_tokens[i]:
            docs.append(features(data.title_tokens[i]))
            targets.append(y)
    for toks, fam in zip(data.article_tokens, data.article_families, strict=True):
        y = np.zeros(len(classes))
        y[col[fam]] = 1.0
        docs.append(features(toks))
        targets.append(y)
    return vectorizer.transform(docs), np.vstack(targets), classes, {k: round(v, 3) for k, v in other.items()}


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties half."""
    if not len(pos) or not len(neg):
        return float("nan")
    from scipy.stats import rankdata

    r = rankdata(np.concatenate([pos, neg]))
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def train_router(data: RoutingData, indexed: Iterable[str], *, min_records: int = 15, lam: float = 1e-5,
                 maxiter: int = 300, keep: float = 0.97, holdout: float = 0.2, seed: int = 0,
                 threshold_on: str = "title", final: bool = True,
                 log: Callable[[str], None] = lambda s: None) -> StatuteRouter:
    """Fit the router; its threshold is the ``1 - keep`` quantile of P(indexed) over held-out
    archive questions whose answer cites an indexed statute (a fit without those records, the
    ``holdout`` share of the archive): about ``keep`` of in-store questions pass. The held-out
    records are scored by their titles (``threshold_on="title"``: short summaries, closer to what
    users type than the long 상황+질의 questions, which the router is much surer of) or by their
    questions. ``final=False``: the held-out fit is returned (quicker; for measurements)."""
    indexed = {family_name(f) for f in indexed}
    all_docs = [features(t) for t in data.tokens] + [features(t) for t in data.title_tokens if t]
    all_docs += [features(t) for t in data.article_tokens]
    vec = Vectorizer.fit(all_docs)
    n = len(data.ids)
    rng = np.random.default_rng(seed)
    test = rng.random(n) < holdout
    train_rows = [i for i in range(n) if not test[i]]
    test_rows = [i for i in range(n) if test[i]]
    threshold, report = 0.0, {}
    if test_rows:
        x, y, classes, other = training_matrix(data, train_rows, min_records, vec)
        w, b = fit_softmax(x, y, lam, maxiter)
        r = StatuteRouter(classes, other, vec, w.astype(np.float32), b)
        iw = r.indexed_weights(indexed)
        report = {"held_out": len(test_rows), "keep": keep, "threshold_on": threshold_on}
        for what in ("question", "title"):
            rows = [i for i in test_rows if what == "question" or data.title_tokens[i]]
            if not rows:
                continue
            p = r.proba_tokens([data.tokens[i] if what == "question" else data.title_tokens[i] for i in rows]) @ iw
            inside = np.array([any(f in indexed for f in data.labels[i]) for i in rows])
            th = float(np.quantile(p[inside], 1.0 - keep)) if inside.any() else 0.0
            out = p[~inside]
            report[what] = {"indexed": int(inside.sum()), "outside": int((~inside).sum()), "auc": round(auc(p[inside], out), 4),
                            "threshold": round(th, 4),
                            "outside_below_threshold": round(float((out < th).mean()), 4) if len(out) else None}
            if what == threshold_on:
                threshold = th
            log(f"법령 분류 검증 ({what}, 보류 {len(rows)}건): 색인 법령 {report[what]['indexed']}건 중 {keep:.0%} 통과 기준 "
                f"{th:.3f}, 색인 밖 법령 {report[what]['outside']}건 중 {report[what]['outside_below_threshold']} 아래, "
                f"AUC {report[what]['auc']}")
        if not final:
            r.threshold, r.report = threshold, report
            return r
    x, y, classes, other = training_matrix(data, range(n), min_records, vec)
    w, b = fit_softmax(x, y, lam, maxiter)
    counts: Counter = Counter(f for lab in data.labels for f in lab)
    report.update({"records": n, "articles": len(data.article_tokens), "classes": len(classes), "features": len(vec.vocab),
                   "min_records": min_records, "lambda": lam, "threshold": round(threshold, 4),
                   "threshold_rule": f"{1 - keep:.2f} quantile of P(indexed) over held-out archive questions citing an "
                                     "indexed statute", "label_counts": dict(counts.most_common(60))})
    return StatuteRouter(classes, other, vec, w.astype(np.float32), b, threshold, report)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save", type=Path, default=None)
    ap.add_argument("--keep", type=float, default=0.97)
    ap.add_argument("--final", action="store_true")
    args = ap.parse_args()
    shared = config.shared_dir()
    corpus = [str(shared / "data/laws")]
    store = open_store(bench_data_dir(corpus))
    ingest_corpus(store, corpus)
    evals = sorted((shared / "bench").glob("*.jsonl")) + sorted((config.REPO_ROOT / "bench").glob("*.jsonl"))
    records = read_archive([shared / "data/legal-qa"])
    excluded = eval_exclusions(records, read_eval_questions(evals))
    articles = store_articles(store)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.time()
    data = routing_data(records, articles, exclude=excluded, log=log)
    families = {f for f, _ in articles}
    router = train_router(data, families, keep=args.keep, final=args.final, log=log)
    log(f"trained in {time.time() - t0:.0f}s; threshold {router.threshold:.4f}")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        router.save(args.save)
    for path in [shared / "bench/law_qa_dev.jsonl", config.REPO_ROOT / "bench/law_qa_heldout.jsonl"]:
        qs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        routes = [router.route(tokenize_query(q["question"]), families) for q in qs]
        p = np.array([r.p_indexed for r in routes])
        un = np.array([not q.get("gold") for q in qs])
        print(f"{path.name}: AUC(answerable > unanswerable) {auc(p[~un], p[un]):.3f}; at {router.threshold:.4f}: "
              f"unanswerable refused {(p[un] < router.threshold).sum()}/{un.sum()}, "
              f"answerable refused {(p[~un] < router.threshold).sum()}/{(~un).sum()}")
        for q, r in zip(qs, routes, strict=True):
            if not q.get("gold") or r.outside:
                print(f"  {'U' if not q.get('gold') else 'A'} {q['id']} {r.p_indexed:.3f} {r.statute}:{r.statute_p:.2f} "
                      f"{q['question'][:40]}")
        print("  answerable lowest:", np.round(np.sort(p[~un])[:6], 3).tolist())


if __name__ == "__main__":
    main()
