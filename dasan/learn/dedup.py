"""Near-duplicate text detection (character 5-gram shingles, Jaccard similarity).

Used to keep evaluation questions out of training data even when the archive holds the same
question under another id (re-posted cases, series of similar counselling records) and to keep
a training question's own near-copies out of the evidence it is scored with."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

_SP = re.compile(r"\s+")
NEAR_DUPLICATE = 0.5  # Jaccard of 5-gram sets at or above which two questions are the same question


def shingles(text: str, n: int = 5) -> frozenset[str]:
    t = _SP.sub("", text)
    if len(t) <= n:
        return frozenset({t}) if t else frozenset()
    return frozenset(t[i:i + n] for i in range(len(t) - n + 1))


class ShingleIndex:
    """Finds, for a text, the indexed texts whose shingle Jaccard reaches a threshold."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.sets = [shingles(t) for t in texts]
        self._post: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(self.sets):
            for g in s:
                self._post[g].append(i)

    def similar(self, text: str, threshold: float = NEAR_DUPLICATE) -> list[tuple[int, float]]:
        q = shingles(text)
        if not q:
            return []
        counts: dict[int, int] = defaultdict(int)
        for g in q:
            for i in self._post.get(g, ()):
                counts[i] += 1
        out = []
        for i, inter in counts.items():
            # quick bound: Jaccard ≤ inter / max(|q|, |s|)
            if inter < threshold * max(len(q), len(self.sets[i])):
                continue
            jac = inter / (len(q) + len(self.sets[i]) - inter)
            if jac >= threshold:
                out.append((i, jac))
        return sorted(out, key=lambda x: -x[1])
