"""Synthetic statutes and vectors for scale tests, recombined from the real statute corpus.

Text: sentences, article titles and chapter titles harvested from the real statute Markdown are
recombined into statutes with invented names (법률 / 시행령 / 시행규칙 families, chapters,
numbered articles with ①② paragraphs and a 부칙), written in the corpus's own Markdown format
and ingested through the real pipeline, so the lexical index sees the real vocabulary and the
chunker, citations and filter columns behave as for real statutes.

Vectors: embedding 100k passages on two cores takes about an hour, so a synthetic chunk's vector
is a random convex mix of 2–3 real e5 passage vectors plus small Gaussian noise, renormalised.

Tokens: Kiwi needs ~9 ms per chunk (15 minutes for 100k), so a synthetic chunk's BM25 tokens
are composed from the tokens of its pieces (statute name, chapter, article reference, title,
sentences), each tokenised once; :func:`compose_tokens` is checked against full tokenisation on
a sample by the scale bench.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DOMAINS = (
    "해양", "수산", "산림", "농업", "축산", "원자력", "항만", "항공", "물류", "관광", "문화재", "체육",
    "평생교육", "공중보건", "응급의료", "식품위생", "대기환경", "기상", "신재생에너지", "전기사업", "도시가스",
    "전기통신", "방송", "우주개발", "국토계획", "공공주택", "건축물", "하천", "지하수", "소방시설", "해운",
    "도로교통", "자동차관리", "화학물질", "폐기물", "수도", "하수도", "공원녹지", "문화예술", "저작권",
)
THEMES = (
    "안전", "진흥", "관리", "육성", "지원", "보호", "개발", "정비", "촉진", "기본", "안전관리", "품질관리",
    "재해예방", "정보화", "표준화", "인력양성", "산업진흥", "시설관리", "환경개선", "연구개발", "규제특례",
    "분쟁조정", "긴급대응", "자격관리", "재정지원",
)
KINDS = (("법률", "법률", ""), ("대통령령", "시행령", " 시행령"), ("부령", "시행규칙", " 시행규칙"))
MARKS = "①②③④⑤⑥⑦⑧⑨⑩"

_ARTICLE = re.compile(r"^#{4,6} 제\d+조(?:의\d+)? \((.+)\)\s*$")
_CHAPTER = re.compile(r"^## 제\d+장 (.+?)(?:\s*<.*)?$")
_NOTE = re.compile(r"\s*<(?:개정|신설|전문개정|본조신설|제목개정)[^>]*>")
_SENTENCE_END = re.compile(r"(?<=다\.)\s+")
_PARA = re.compile(r"^\*\*[①-⑳]\*\*\s*")


@dataclass
class Material:
    sentences: list[str]
    titles: list[str]
    chapters: list[str]


def harvest(files: Iterable[Path], *, max_sentences: int = 8000, seed: int = 0) -> Material:
    """Statute sentences (20–220 characters, ending in 다.), article and chapter titles."""
    sentences: set[str] = set()
    titles: set[str] = set()
    chapters: set[str] = set()
    for f in files:
        in_body = False
        for line in f.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("## 부칙"):
                in_body = False
                continue
            if m := _CHAPTER.match(line):
                chapters.add(m.group(1).strip())
                continue
            if m := _ARTICLE.match(line):
                titles.add(m.group(1).strip())
                in_body = True
                continue
            if not in_body or not line or line.startswith(("#", "<", "---", "|")):
                continue
            text = _NOTE.sub("", _PARA.sub("", line)).replace("\\.", ".").strip()
            for s in _SENTENCE_END.split(text):
                if 20 <= len(s) <= 220 and s.endswith("다."):
                    sentences.add(s)
    rng = random.Random(seed)
    pool = sorted(sentences)
    rng.shuffle(pool)
    return Material(pool[:max_sentences], sorted(titles), sorted(chapters))


def family_name(i: int) -> str:
    """The i-th invented statute name (40 x 25 combinations, then numbered rounds)."""
    d, t = DOMAINS[i % len(DOMAINS)], THEMES[(i // len(DOMAINS)) % len(THEMES)]
    rnd = i // (len(DOMAINS) * len(THEMES))
    return f"{d}{t}{'' if rnd == 0 else f'특례{rnd}'}법"


def statute_markdown(name: str, kind: int, n_articles: int, mat: Material, rng: random.Random) -> str:
    code, _, suffix = KINDS[kind]
    title = name + suffix
    day = f"{rng.randint(2005, 2027)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    out = [
        "---", f"제목: {title}", f"법령구분: {code}", "소관부처:", "- 가상행정부", f"공포일자: {day}",
        f"시행일자: {day}", "상태: 시행", "---", "", f"# {title}", "",
    ]
    chapters = max(1, n_articles // 12)
    per = -(-n_articles // chapters)
    for n in range(1, n_articles + 1):
        if (n - 1) % per == 0:
            out += [f"## 제{(n - 1) // per + 1}장 {rng.choice(mat.chapters)}", ""]
        out += [f"##### 제{n}조 ({rng.choice(mat.titles)})", ""]
        paras = rng.choice((1, 1, 2, 2, 3))
        for p in range(paras):
            body = " ".join(rng.sample(mat.sentences, rng.choice((1, 1, 2))))
            out += [f"**{MARKS[p]}** {body}" if paras > 1 else body, ""]
    out += ["## 부칙", "", f"부칙 <제{rng.randint(10000, 21000)}호,{day.replace('-', '.')}>", ""]
    out += [f"제1조 (시행일) 이 {'법' if kind == 0 else '영' if kind == 1 else '규칙'}은 공포한 날부터 시행한다.", ""]
    return "\n".join(out) + "\n"


def write_statutes(directory: Path, first_family: int, n_articles: int, mat: Material,
                   rng: random.Random) -> tuple[list[Path], int]:
    """Families of 법률/시행령/시행규칙 holding about ``n_articles`` articles in all.
    Returns the files and the next free family number."""
    files: list[Path] = []
    fam = first_family
    left = n_articles
    while left > 0:
        name = family_name(fam)
        fam += 1
        for kind in range(3):
            n = min(left, max(5, int(rng.gauss((50, 35, 20)[kind], 10))))
            if n <= 0:
                break
            path = directory / name / f"{KINDS[kind][1]}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(statute_markdown(name, kind, n, mat, rng), encoding="utf-8")
            files.append(path)
            left -= n + 1  # the 부칙 article is a chunk too
    return files, fam


def synthetic_vectors(pool: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    """``n`` unit vectors: convex mixes of 2–3 random ``pool`` rows plus N(0, noise²) per component."""
    dim = pool.shape[1]
    parts = rng.integers(2, 4, n)
    idx = rng.integers(0, len(pool), (n, 3))
    w = rng.dirichlet(np.ones(3), n)
    w[parts == 2, 2] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    out = np.einsum("nk,nkd->nd", w, pool[idx]) + rng.normal(0.0, noise, (n, dim))
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


# -- tokens --------------------------------------------------------------------------------
_HEADER = re.compile(r"^(제\d+조(?:의\d+)?)\s*(\(.*\))?\s*(.*)$")


def pieces(index_text: str) -> list[str]:
    """Split an index text (context line + chunk text) into independently tokenised pieces."""
    out: list[str] = []
    for line in index_text.split("\n"):
        for seg in line.split(" > "):
            seg = seg.strip()
            m = _HEADER.match(seg)
            if m:
                out += [x for x in m.groups() if x]
                continue
            out += [s for s in _SENTENCE_END.split(seg) if s]
    return out


def compose_tokens(texts: list[str], tokenize_many: Callable[[list[str]], list[list[str]]],
                   cache: dict[str, list[str]]) -> list[list[str]]:
    """BM25 tokens of ``texts`` as the concatenated tokens of their pieces (each piece tokenised
    once across calls through ``cache``)."""
    split = [pieces(t) for t in texts]
    new = sorted({p for ps in split for p in ps if p not in cache})
    for start in range(0, len(new), 512):
        part = new[start : start + 512]
        cache.update(zip(part, tokenize_many(part), strict=True))
    return [[tok for p in ps for tok in cache[p]] for ps in split]
