"""Does a source support a sentence? Lexical and semantic evidence.

Lexical support is the IDF-weighted share of the sentence's content morphemes that occur in
the source; semantic support is the cosine similarity between the sentence and the closest
source unit. A sentence is supported when its lexical support is high, or when its semantic
support is high and it still shares a fair part of its content words with the source
(multilingual-e5 puts unrelated sentences on the same topic at cosine ≈ 0.85, so similarity
alone is not evidence). Numbers are treated strictly: a number in the sentence that is
absent from the source makes it unsupported, whatever else matches ("0.03퍼센트" ≠ "0.02퍼센트").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dasan.korean.sentences import split_sentences
from dasan.korean.tokenize import tokenize

_NUM_RE = re.compile(r"\d+(?:[.,]\d+)*")
_UNIT_SPLIT = re.compile(r"\n+")


def units(text: str, max_chars: int = 300) -> list[str]:
    """Quotable units of a source: its lines (항·호 in statutes), long lines cut into sentences."""
    out: list[str] = []
    for line in _UNIT_SPLIT.split(text):
        line = line.strip()
        if not line:
            continue
        if len(line) <= max_chars:
            out.append(line)
        else:
            out.extend(s.strip() for s in split_sentences(line) if s.strip())
    return out


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUM_RE.findall(text)}


@dataclass
class Support:
    source: int  # index into the sources given
    lexical: float
    semantic: float
    numbers_ok: bool

    @property
    def score(self) -> float:
        return max(self.lexical, self.semantic) if self.numbers_ok else 0.0


class SupportChecker:
    def __init__(self, idf: Callable[[str], float] | None = None,
                 embed: Callable[[list[str]], np.ndarray] | None = None,
                 lexical_threshold: float = 0.6, semantic_threshold: float = 0.91,
                 semantic_min_lexical: float = 0.25) -> None:
        self.idf = idf or (lambda t: 1.0)
        self.embed = embed
        self.lexical_threshold = lexical_threshold
        self.semantic_threshold = semantic_threshold
        self.semantic_min_lexical = semantic_min_lexical

    def lexical(self, sentence_tokens: Sequence[str], source_tokens: set[str]) -> float:
        total = sum(self.idf(t) for t in sentence_tokens)
        if total <= 0:
            return 0.0
        return sum(self.idf(t) for t in sentence_tokens if t in source_tokens) / total

    def best_support(self, sentences: list[str], sources: list[str]) -> list[Support | None]:
        """For each sentence, the source that supports it best (None when no source does)."""
        if not sentences or not sources:
            return [None] * len(sentences)
        src_tokens = [set(tokenize(s)) for s in sources]
        src_numbers = [numbers(s) for s in sources]
        sem = None
        if self.embed is not None:
            src_units = [(i, u) for i, s in enumerate(sources) for u in units(s)]
            vecs = self.embed(sentences + [u for _, u in src_units])
            sv, uv = vecs[: len(sentences)], vecs[len(sentences):]
            sims = sv @ uv.T if len(src_units) else np.zeros((len(sentences), 0))
            sem = np.full((len(sentences), len(sources)), -1.0)
            for j, (i, _) in enumerate(src_units):
                sem[:, i] = np.maximum(sem[:, i], sims[:, j])
        out: list[Support | None] = []
        for si, sent in enumerate(sentences):
            toks = tokenize(sent)
            nums = numbers(sent)
            best: Support | None = None
            for i in range(len(sources)):
                sup = Support(
                    source=i,
                    lexical=self.lexical(toks, src_tokens[i]),
                    semantic=float(sem[si, i]) if sem is not None else 0.0,
                    numbers_ok=nums <= src_numbers[i],
                )
                if best is None or sup.score > best.score:
                    best = sup
            if best is not None and best.numbers_ok and (
                best.lexical >= self.lexical_threshold
                or (best.semantic >= self.semantic_threshold and best.lexical >= self.semantic_min_lexical)
            ):
                out.append(best)
            else:
                out.append(None)
        return out


def idf_from_bm25(vocab: dict[str, int], idf: np.ndarray) -> Callable[[str], float]:
    """IDF lookup from a BM25 index; unknown terms weigh like the rarest ones."""
    top = float(idf.max()) if len(idf) else 1.0

    def f(term: str) -> float:
        j = vocab.get(term)
        return float(idf[j]) if j is not None else top

    return f


