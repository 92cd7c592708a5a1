"""Everyday Korean → statute vocabulary: the user dictionary for administrative and legal terms.

People ask "지하철 요금" and "역무원을 때리면"; statutes say "도시철도 운임" and "폭행ㆍ협박으로
철도종사자의 직무집행을 방해". Neither BM25 nor a small embedding model bridges that gap, so
questions are expanded with the legal terms whose everyday equivalents they contain.

The dictionary is a plain TSV (``legal term<TAB>plain word|plain word|…``): the bundled one,
``dasan/korean/data/legal_terms.tsv``, written from the corpus's own vocabulary, plus an
optional site file named by ``DASAN_LEGAL_TERMS`` (an agency adds its own jargon there).

Matching works on content morphemes, so inflected forms match their dictionary form ("때리거나"
matches "때리다") and a phrase matches only as consecutive morphemes of the question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dasan.errors import ConfigError

BUNDLED = Path(__file__).with_name("data") / "legal_terms.tsv"
Tokenizer = Callable[[str], list[str]]


@dataclass(frozen=True)
class Expansion:
    """What a question gained: legal terms and the plain phrases that triggered them."""

    terms: tuple[str, ...]  # legal terms, in dictionary order
    tokens: tuple[str, ...]  # their content morphemes not already in the question
    triggers: tuple[str, ...]  # plain phrases found in the question

    def __bool__(self) -> bool:
        return bool(self.terms)


def parse(lines: Iterable[str], source: str = "사전") -> list[tuple[str, list[str]]]:
    """``[(legal term, [plain phrases])]`` from TSV lines; ``#`` starts a comment line."""
    entries: list[tuple[str, list[str]]] = []
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term, sep, alts = line.partition("\t")
        plain = [a.strip() for a in alts.split("|") if a.strip()]
        if not sep or not term.strip() or not plain:
            raise ConfigError(
                f"{source} {n}번째 줄 형식이 잘못되었습니다: '법령용어<탭>일상어|일상어' 형식으로 고치세요."
            )
        entries.append((term.strip(), plain))
    return entries


class LegalThesaurus:
    def __init__(self, entries: list[tuple[str, list[str]]], tokenizer: Tokenizer) -> None:
        self.tokenize = tokenizer
        self.entries = entries
        # first morpheme of a plain phrase → [(phrase morphemes, phrase, legal term index)]
        self._by_head: dict[str, list[tuple[tuple[str, ...], str, int]]] = {}
        self._term_tokens: list[tuple[str, ...]] = []
        for i, (term, plain) in enumerate(entries):
            self._term_tokens.append(self._noun_tokens(term))
            for phrase in plain:
                toks = tuple(tokenizer(phrase))
                # "직원 수" loses its dependent noun and would fire on every "직원": skip phrases
                # that shrink to fewer morphemes than they have words.
                if toks and len(toks) >= len(phrase.split()):
                    self._by_head.setdefault(toks[0], []).append((toks, phrase, i))

    def _noun_tokens(self, term: str) -> tuple[str, ...]:
        """Morphemes of a legal term as the index sees it inside a sentence.

        Alone, Kiwi may read a noun as a verb form ("보고" → 보다 + 고); in a noun frame it
        analyses it as statute text does.
        """
        frame = "에 관한 사항"
        toks = self.tokenize(term + frame)
        tail = self.tokenize(frame)
        return tuple(toks[: len(toks) - len(tail)] if tail and toks[-len(tail):] == tail else toks)

    def __len__(self) -> int:
        return len(self.entries)

    def expand(self, query_tokens: list[str]) -> Expansion:
        hits: dict[int, None] = {}
        triggers: dict[str, None] = {}
        for pos, tok in enumerate(query_tokens):
            for toks, phrase, i in self._by_head.get(tok, ()):
                if tuple(query_tokens[pos : pos + len(toks)]) == toks:
                    hits[i] = None
                    triggers[phrase] = None
        present = set(query_tokens)
        terms, tokens = [], []
        for i in sorted(hits):
            term_toks = self._term_tokens[i]
            if set(term_toks) <= present:  # the question already uses the legal term
                continue
            terms.append(self.entries[i][0])
            tokens.extend(t for t in term_toks if t not in present and t not in tokens)
        return Expansion(tuple(terms), tuple(tokens), tuple(triggers))


def load_entries() -> list[tuple[str, list[str]]]:
    entries = parse(BUNDLED.read_text(encoding="utf-8").splitlines(), "내장 법령용어 사전")
    from dasan import settings

    site = settings.site_file("DASAN_LEGAL_TERMS", "법령용어 사전")
    if site is not None:
        entries += parse(site[1].splitlines(), str(site[0]))
    return entries


@lru_cache(maxsize=1)
def default_thesaurus() -> LegalThesaurus:
    from dasan.korean.tokenize import tokenize

    return LegalThesaurus(load_entries(), tokenize)
