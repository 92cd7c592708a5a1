"""Document retrieval on outside text: KorQuAD 1.0 Wikipedia articles as a benchmark corpus.

The statute and press sets were written by people who knew this project; KorQuAD was not. Each
article of a KorQuAD JSON file (``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``)
becomes one Markdown document (``# 제목`` and its paragraphs, text unmodified) in a cache folder
under the bench data dir; a fixed, seeded sample of its questions becomes a question set whose
gold is the article's document stem (the document rule of bench/README.md). With
``unit="paragraph"`` every paragraph is a document of its own (``# 제목`` and the paragraph), a
harder set: 961 short documents, several per article, one of them gold. The retrieval benchmark
(:func:`dasan.bench.retrieval.bench_retrieval`) then runs on them, so the numbers are comparable
with the other sets: one entry per document, Recall@k and MRR@10 over documents.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from dasan import config
from dasan.errors import ConfigError
from dasan.rag.retrieve import RetrievalConfig

DEFAULT_QUESTIONS = 300
DEFAULT_SEED = 13
_UNSAFE = re.compile(r"[^\w\-]+")
Unit = Literal["article", "paragraph"]


def article_stem(index: int, title: str) -> str:
    """File stem of the ``index``-th article: ``007-금강산`` (index first: titles may repeat)."""
    safe = re.sub("_+", "_", _UNSAFE.sub("_", title.strip())).strip("_")[:60] or "article"
    return f"{index:03d}-{safe}"


def paragraph_stem(index: int, title: str, paragraph: int) -> str:
    """File stem of one paragraph when paragraphs are the documents: ``007-금강산-p03``."""
    return f"{article_stem(index, title)}-p{paragraph:02d}"


def article_markdown(article: dict[str, Any], paragraph: int | None = None) -> str:
    """One article (or one of its paragraphs) as Markdown: the title as a heading, then the text."""
    title = str(article.get("title") or "").replace("_", " ").strip()
    paragraphs = [str(p.get("context") or "").strip() for p in article.get("paragraphs") or []]
    if paragraph is not None:
        paragraphs = paragraphs[paragraph : paragraph + 1]
    body = "\n\n".join(p for p in paragraphs if p)
    return f"# {title}\n\n{body}\n" if title else f"{body}\n"


def documents(articles: list[dict[str, Any]], unit: Unit = "article") -> dict[str, str]:
    """``{stem: Markdown}`` of every document of the corpus."""
    out = {}
    for i, art in enumerate(articles):
        title = str(art.get("title") or "")
        if unit == "paragraph":
            for j in range(len(art.get("paragraphs") or [])):
                out[paragraph_stem(i, title, j)] = article_markdown(art, j)
        else:
            out[article_stem(i, title)] = article_markdown(art)
    return out


def load_korquad(source: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"KorQuAD 파일 {source}을(를) 읽을 수 없습니다: {e}") from e
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise ConfigError(f"{source}: KorQuAD 형식이 아닙니다 ('data' 목록이 없습니다).")
    return articles


def sample_questions(articles: list[dict[str, Any]], n: int, seed: int,
                     unit: Unit = "article") -> list[dict[str, Any]]:
    """``n`` questions drawn with ``random.Random(seed)`` from all of them (in file order), each
    with its article's (or paragraph's) stem as gold. The draw does not depend on ``unit``."""
    pool = []
    for i, art in enumerate(articles):
        title = str(art.get("title") or "")
        for j, p in enumerate(art.get("paragraphs") or []):
            stem = paragraph_stem(i, title, j) if unit == "paragraph" else article_stem(i, title)
            for qa in p.get("qas") or []:
                question = " ".join(str(qa.get("question") or "").split())
                if question:
                    answers = [a.get("text", "") for a in qa.get("answers") or []]
                    pool.append({"id": str(qa.get("id") or len(pool)), "category": "korquad", "question": question,
                                 "gold": [stem], "answer": answers[0] if answers else ""})
    if n >= len(pool):
        return pool
    picked = sorted(random.Random(seed).sample(range(len(pool)), n))
    return [pool[i] for i in picked]


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def build_korquad(source: Path, out_dir: Path, *, n_questions: int = DEFAULT_QUESTIONS,
                  seed: int = DEFAULT_SEED, unit: Unit = "article") -> tuple[Path, Path]:
    """Write the documents of ``source`` to ``out_dir/<unit>s/<stem>.md`` and the sampled
    questions to ``out_dir/questions-<unit>-<n>-<seed>.jsonl``; returns both paths. Unchanged
    files are left alone (so a bench store built from them stays valid), others removed."""
    if unit not in ("article", "paragraph"):
        raise ConfigError(f"unit은 'article' 또는 'paragraph'여야 합니다 (받은 값: {unit!r}).")
    articles = load_korquad(source)
    docs = out_dir / f"{unit}s"
    docs.mkdir(parents=True, exist_ok=True)
    wanted = documents(articles, unit)
    for stem, text in wanted.items():
        _write_if_changed(docs / f"{stem}.md", text)
    for old in docs.glob("*.md"):
        if old.stem not in wanted:
            old.unlink()
    questions = out_dir / f"questions-{unit}-{n_questions}-{seed}.jsonl"
    lines = [json.dumps(q, ensure_ascii=False) for q in sample_questions(articles, n_questions, seed, unit)]
    _write_if_changed(questions, "\n".join(lines) + "\n")
    return docs, questions


def korquad_dir(source: Path) -> Path:
    """The cache folder for one KorQuAD file (under the bench data dir, keyed by its path)."""
    key = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return config.data_dir() / "bench" / f"korquad-{key}"


def bench_korquad(source: Path, *, n_questions: int = DEFAULT_QUESTIONS, seed: int = DEFAULT_SEED,
                  unit: Unit = "article", retrieval: RetrievalConfig | None = None, cold: bool = False,
                  log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    from dasan.bench.retrieval import bench_retrieval

    docs, questions = build_korquad(source, korquad_dir(source), n_questions=n_questions, seed=seed, unit=unit)
    result = bench_retrieval([str(docs)], questions, retrieval=retrieval, cold=cold, log=log)
    return result | {"source": str(source), "seed": seed, "unit": unit, "documents": len(list(docs.glob("*.md")))}
