"""House-style check for 보도자료 (공공언어 rules): ``dasan press check``.

The checker works on the document as rendered line by line (:func:`render_lines`: one line per
paragraph line, table rows as their cells joined with `` | ``), so every finding points at a line
number a writer can find. Rules and their stable ids:

- ``bullet-ending``: a bullet item (``○ ㅇ ◦ - …``) in a 개조식 list that ends with a sentence
  ending (``~합니다.``, ``~했다.``) instead of a noun (``~추진``, ``~실시``, ``~예정``);
- ``long-sentence``: a sentence longer than :data:`MAX_SENTENCE_CHARS` characters;
- ``foreign-word``: a foreign word with a recommended Korean word (``가이드라인`` → ``지침``);
- ``abbreviation``: a Latin abbreviation (``MOU``, ``AI``) that the document never glosses in Korean;
- ``ambiguous-date``: ``'26년``, ``3/2``, ``2026. 3. 2`` (no final period), ``2026-03-02``;
- ``missing-embargo`` / ``missing-contact``: no 보도시점 in the header, no contact with a phone.

The word list is ``data/foreign_words.tsv`` (``word<TAB>suggestion<TAB>note``); a site adds or
overrides entries with a file of the same shape named by ``DASAN_STYLE_TERMS``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from dasan.errors import ConfigError
from dasan.ingest.press import RANKS
from dasan.types import Document

BUNDLED_TERMS = Path(__file__).with_name("data") / "foreign_words.tsv"
TERMS_ENV = "DASAN_STYLE_TERMS"

#: Sentences longer than this (characters, spaces included) are reported. Measured on 100 real
#: 교육부 releases (Jan.–Jul. 2026, 2,103 sentences as this module splits them): median 73, p90 121,
#: p95 137, p99 174. At 150 the rule reports the longest 2.8% (58 sentences in 32 releases); 120
#: would report 10.6% and 100 over a fifth of all sentences, which is noise rather than advice.
MAX_SENTENCE_CHARS = 150

#: The header (보도자료 label, 배포, 보도시점) is looked for in this many first lines.
HEAD_LINES = 20

#: Rule id → the label shown to writers; findings on one line are listed in this order.
RULE_LABELS: dict[str, str] = {
    "missing-embargo": "보도시점",
    "missing-contact": "연락처",
    "bullet-ending": "개조식",
    "long-sentence": "긴 문장",
    "foreign-word": "외래어",
    "abbreviation": "약어",
    "ambiguous-date": "날짜 표기",
}


@dataclass
class Finding:
    rule: str  # stable id, a key of RULE_LABELS
    line: int  # 1-based line of the rendered document
    text: str  # the offending excerpt
    message: str  # what is wrong (Korean)
    suggestion: str  # what to write instead (Korean)

    @property
    def label(self) -> str:
        return RULE_LABELS.get(self.rule, self.rule)

    def summary(self) -> str:
        """One display line: ``12행 [외래어] '가이드라인' → '지침' 권장``."""
        if self.rule in ("foreign-word", "abbreviation"):
            body = f"'{self.text}' → '{self.suggestion}' 권장"
        elif self.rule.startswith("missing-"):
            body = f"{self.message} → {self.suggestion}"
        else:
            body = f"'{self.text}': {self.message} → {self.suggestion}"
        return f"{self.line}행 [{self.label}] {body}"


# --------------------------------------------------------------------------- rendering
def render_lines(doc: Document) -> list[str]:
    """The document as the checker numbers it: one line per paragraph line, table rows as cells
    joined with `` | `` (cell text with its whitespace collapsed)."""
    out: list[str] = []
    for b in doc.blocks:
        if b.kind == "page_break":
            continue
        if b.kind == "table" and b.rows:
            out.extend(" | ".join(" ".join((c or "").split()) for c in row) for row in b.rows)
            continue
        text = b.text or ""
        bullet = str(b.meta.get("bullet") or "").strip() if b.kind == "list_item" else ""
        if bullet and not text.lstrip().startswith(bullet):
            text = f"{bullet} {text}"
        out.extend(line.rstrip() for line in text.split("\n"))
    return out


def _is_table_row(line: str) -> bool:
    return " | " in line or line.startswith("| ") or line.endswith(" |")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split(" | ")] if _is_table_row(line) else [line.strip()]


# --------------------------------------------------------------------------- term list
@dataclass(frozen=True)
class Term:
    word: str
    suggestion: str  # empty: an allowed word (never reported)
    note: str = ""

    @property
    def is_latin(self) -> bool:
        return bool(re.search(r"[A-Za-z]", self.word))


def parse_terms(lines: list[str], source: str) -> list[Term]:
    """Terms from TSV lines ``word<TAB>suggestion<TAB>note``; ``#`` starts a comment line."""
    out: list[Term] = []
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        word = cols[0].strip()
        if len(cols) < 2 or not word:
            raise ConfigError(
                f"{source} {n}번째 줄 형식이 잘못되었습니다: '단어<탭>권장 표현<탭>비고' 형식으로 고치세요."
            )
        out.append(Term(word, cols[1].strip(), cols[2].strip() if len(cols) > 2 else ""))
    return out


def load_terms() -> list[Term]:
    """The bundled list with the site list (``DASAN_STYLE_TERMS``) merged over it: a site entry
    replaces the bundled entry for the same word; an empty suggestion allows the word."""
    merged = {t.word: t for t in parse_terms(BUNDLED_TERMS.read_text(encoding="utf-8").splitlines(), "내장 용어 목록")}
    from dasan import settings

    site = settings.site_file(TERMS_ENV, "용어 목록")
    if site is not None:
        for t in parse_terms(site[1].splitlines(), str(site[0])):
            merged[t.word] = t
    return list(merged.values())


# --------------------------------------------------------------------------- shared patterns
_HANGUL = "가-힣"
_CLOSERS = "”’\"')」』】]"  # closing quotes and brackets (for str.strip)
_CQ = "”’\"')」』】\\]"  # the same inside a regex character class
_PHONE_RE = re.compile(r"(?<!\d)(?:0\d{1,2}|1[5-8]\d{2})[-.)\s]?\d{3,4}-\d{4}(?!\d)")
_EMBARGO_LABEL = re.compile(r"보\s*도\s*시\s*점|보\s*도\s*일\s*시|보\s*도\s*일\s*자|엠\s*바\s*고")
# Releases without the label state the embargo in a sentence: "11:00 이후 보도 가능합니다",
# "조간으로 보도하여 주시기 바랍니다", "즉시 보도".
_EMBARGO_PHRASE = re.compile(r"이후\s*보도|보도\s*가능|(?:조간|석간)\s*(?:으로)?\s*보도|즉시\s*보도|보도하여\s*주시기")
_HEADER_LINE = re.compile(r"보\s*도\s*(?:참\s*고\s*)?자\s*료|배\s*포")
_CONTACT_LABEL = re.compile(r"담\s*당\s*부\s*서|책\s*임\s*자|담\s*당\s*자|담\s*당\s*[:：]|문\s*의|연락")


# --------------------------------------------------------------------------- bullets
#: Bullet markers → rank (smaller = outer); the parser's ranks plus the odd marker of real files.
_MARKER_RANKS: dict[str, int] = {**RANKS, "‣": 3, "➔": 3, "→": 3}
_BULLET_RE = re.compile(
    r"^\s*(?:([▣■◼□◆❏○◦●◇❍•▶▷►‣➔※]|\*+)\s*|([ㅇ\-–·ㆍ→])\s+|([\ue000-\uf8ff\U000f0000-\U000ffffd])\s*)(.*)$"
)
#: Sentence endings that a 개조식 item should not have (the line's very end).
_SENTENCE_END = re.compile(
    rf"(?:[{_HANGUL}]다\.|[{_HANGUL}]요\.|(?:습니|합니|됩니|입니|[였었았했겠한된있없인는렸혔졌왔냈쳤켰섰봤갔줬웠])다)[{_CQ}]*$"
)
#: A paragraph written as prose: a sentence, or a clause continued on the next line ("…발표하고,").
_PROSE_END = re.compile(rf"(?:다\.?|요\.|[{_HANGUL}],)[{_CQ}]*$")
_LABELLED_ITEM = re.compile(r"^[(（][^()（）]{1,20}[)）]")  # "(적용범위) …": a 개조식 item by form


def _marker(line: str) -> tuple[str, int, str] | None:
    """``(marker, rank, text)`` of a bullet line, ``None`` for other lines."""
    m = _BULLET_RE.match(line)
    if not m:
        return None
    marker = m[1] or m[2] or m[3]
    if marker.startswith("*"):
        return "*", RANKS["*"], m[4]
    rank = _MARKER_RANKS.get(marker, 2)  # private-use glyphs are item markers of HWP fonts
    return marker, rank, m[4]


def _prose(text: str) -> bool:
    return bool(_PROSE_END.search(text.rstrip()))


_STEM_ENDINGS: list[tuple[re.Pattern[str], str]] = [
    # "추진할 예정이다" → "추진 예정", "개최될 계획입니다" → "개최 계획"
    (re.compile(rf"([{_HANGUL}]{{2,}}?)(?:할|될) (예정|계획|방침)(?:이다|입니다)\.?$"), r"\1 \2"),
    # "운영하고 있다" → "운영 중"
    (re.compile(rf"([{_HANGUL}]{{2,}}?)(?:하고|되고) 있(?:다|습니다)\.?$"), r"\1 중"),
    # "마련했습니다", "개최하였다", "실시한다", "구성되었다" → the noun
    (re.compile(rf"([{_HANGUL}]{{2,}}?)(?:하였|했|하겠|되었|됐|되겠)(?:습니다|다)\.?$"), r"\1"),
    (re.compile(rf"([{_HANGUL}]{{2,}}?)(?:합니다|한다|됩니다|된다)\.?$"), r"\1"),
    # "대상은 100명이다" → "대상은 100명"
    (re.compile(r"(\S+?)(?:이다|입니다)\.?$"), r"\1"),
]


def _has_final_consonant(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


def _drop_object_particle(text: str) -> str:
    """``가이드라인을 마련`` → ``가이드라인 마련``: drop 을/를 before the last word when it agrees
    with the syllable before it (so ``마을 조성`` keeps its 을)."""
    m = re.search(rf"([{_HANGUL}])([을를]) (\S+)(?: (?:예정|계획|방침|중))?$", text)
    if not m:
        return text
    wants = "을" if _has_final_consonant(m[1]) else "를"
    return text[: m.start(2)] + text[m.end(2):] if m[2] == wants else text


def nominalize(text: str) -> str | None:
    """A 개조식 rewrite of a sentence-final item, or ``None`` when no safe rewrite is known."""
    body = text.rstrip().rstrip(_CLOSERS).rstrip()
    if re.search(rf"[{_CQ}]", text.rstrip()[-1:]):
        return None  # ends inside a quotation: leave the wording to the writer
    for pat, repl in _STEM_ENDINGS:
        m = pat.search(body)
        if m:
            stem = pat.sub(repl, body)
            if stem.endswith("것"):
                return None
            return _drop_object_particle(stem)
    return None


def _check_bullets(lines: list[str], body_start: int, skip: set[int]) -> list[Finding]:
    """Report sentence-final items of 개조식 lists.

    Real releases write their paragraphs (□ level, or paragraphs without a visible marker) in
    sentences, and many ministries continue such a paragraph with ``ㅇ`` items that are sentences
    too (문장형 보도자료). Those are fine. An item is reported when its list is 개조식: its parent
    (the nearest outer line) is a heading or a noun-ended item, or the item itself has the
    ``(label) …`` form of a 개조식 item. ``*``/``※`` notes may quote sentences and are not checked.
    """
    out: list[Finding] = []
    stack: list[tuple[int, bool]] = []  # (rank, written as prose) of the enclosing lines
    for i in range(body_start, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        if i in skip or _is_table_row(line):
            stack = []  # a table ends whatever list came before it
            continue
        mk = _marker(line)
        if mk is None:
            stack = [(1, _prose(line))]
            continue
        marker, rank, text = mk
        if rank >= RANKS["*"]:
            continue
        text = re.sub(r"\s*[-–]\s*$", "", text.strip())  # subtitle "- … -"
        while stack and stack[-1][0] >= rank:
            stack.pop()
        own_prose = _prose(text)
        if rank >= 2 and _SENTENCE_END.search(text):
            parent_prose = stack[-1][1] if stack else False
            if not parent_prose or _LABELLED_ITEM.match(text):
                fixed = nominalize(text)
                tail = text if len(text) <= 30 else "…" + text[-29:]
                if fixed and len(fixed) > 25:
                    fixed = "…" + " ".join(fixed[-25:].split()[1:])  # the rewritten end, whole words
                out.append(Finding(
                    "bullet-ending", i + 1, f"{marker} {tail}",
                    "글머리 항목을 문장으로 끝맺었습니다(개조식 목록).",
                    f"'{fixed}'처럼 명사로 끝맺으세요."
                    if fixed else "'~추진', '~실시', '~예정'처럼 명사로 끝맺으세요.",
                ))
        stack.append((rank, own_prose))
    return out


# --------------------------------------------------------------------------- long sentences
# End of a sentence: . ? ! after a letter or a closing bracket (not after a digit: "2026. 3. 2.",
# "1. 개요"), followed by a space, a closing quote or the end of the line.
_SENT_SPLIT = re.compile(rf"(?<=[{_HANGUL}A-Za-z)\]{_CQ}])[.?!。](?=[\s{_CQ}]|$)")
_SENT_FINAL = re.compile(rf"[{_HANGUL}][.?!。]$|[{_HANGUL}]다$")
# Inline markers that show a "sentence" is really a list run together by a reader.
_INLINE_LIST = re.compile(
    r"\s(?:[□○◦•ㅇ❍‣▶]|[➊-➓①-⑳])\s|(?<![\d.])\s\d{1,2}\.\s(?=[가-힣])|[\ue000-\uf8ff\U000f0000-\U000ffffd➊-➓]"
)
_BREAK_AT = re.compile(rf"[{_HANGUL}](?:고|며|면서|여|서|나|는데|지만|으나|도록|므로),")


def sentences(text: str) -> list[str]:
    """The complete sentences of one line or cell (pieces that end like a Korean sentence)."""
    pieces: list[str] = []
    start = 0
    for m in _SENT_SPLIT.finditer(text):
        pieces.append(text[start : m.end()])
        start = m.end()
    pieces.append(text[start:])
    out = []
    for piece in pieces:
        s = piece.strip().lstrip(_CLOSERS).strip()
        if s and _SENT_FINAL.search(s.rstrip(_CLOSERS)):
            out.append(s)
    return out


def _measured(sentence: str) -> str:
    """The sentence as counted: bullet marker dropped, whitespace runs as one space."""
    mk = _marker(sentence)
    return " ".join((mk[2] if mk else sentence).split())


def _mostly_korean(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    hangul = sum(1 for c in letters if "가" <= c <= "힣")
    return bool(letters) and hangul / len(letters) >= 0.5


def _check_long(lines: list[str], skip: set[int], limit: int) -> list[Finding]:
    out: list[Finding] = []
    for i, line in enumerate(lines):
        if i in skip:
            continue
        for cell in _cells(line):
            for sent in sentences(cell):
                s = _measured(sent)
                if len(s) <= limit or not _mostly_korean(s) or _INLINE_LIST.search(s):
                    continue
                cuts = [m.end() for m in _BREAK_AT.finditer(s)]
                if cuts:
                    cut = min(cuts, key=lambda c: abs(c - len(s) / 2))
                    words = s[:cut].split()[-2:]
                    hint = f"'…{' '.join(words)}' 뒤에서 끊어 두 문장으로 나누세요."
                else:
                    hint = "두세 문장으로 나누고 꾸밈말을 줄이세요."
                out.append(Finding(
                    "long-sentence", i + 1, s[:40] + "…",
                    f"문장이 {len(s)}자로 깁니다(기준 {limit}자).", hint,
                ))
    return out


# --------------------------------------------------------------------------- words
_PARTICLE = (
    "이|가|은|는|을|를|의|에|에서|에게|께|와|과|도|만|로|으로|로서|으로서|로써|으로써|부터|까지|처럼|보다|"
    "나|이나|며|이며|고|이고|다|이다|입니다|인|이라는|라는|라고|이라고|이란|란|이자|에는|에서는|에도|에서도|"
    "으로는|로는|으로의|로의|와의|과의|에의|마다|뿐|이면|면|이든|든|에선|엔"
)
# What may follow a term inside the same word: a plural/derivational suffix, then a particle, or a
# 하다/되다 verb ending ("모니터링하여"). Anything else means a longer word ("글로컬" ⊅ "로컬").
_SUFFIX_RE = re.compile(
    rf"(?:들|적|화|별)?(?:{_PARTICLE}|(?:하|되|해|했|돼|됐|된|될|할|함|됨|한|합|됩|시키|시켜|시킨)[{_HANGUL}]*)?"
)


class TermMatcher:
    """Finds list terms in text: Hangul words at a word start with only a particle or a
    하다 ending after them; Latin words between non-Latin characters, case-sensitively."""

    def __init__(self, terms: list[Term]) -> None:
        self.terms = {t.word: t for t in terms}
        hangul = sorted((t.word for t in terms if not t.is_latin), key=len, reverse=True)
        latin = sorted((t.word for t in terms if t.is_latin), key=len, reverse=True)
        spaced = [r"\s?".join(re.escape(p) for p in w.split()) for w in hangul]
        self._hangul = re.compile(rf"(?<![{_HANGUL}])({'|'.join(spaced)})([{_HANGUL}]*)") if spaced else None
        self._spaced = {re.sub(r"\s", "", w): w for w in hangul}
        self._latin = (
            re.compile(rf"(?<![A-Za-z0-9&])({'|'.join(re.escape(w) for w in latin)})(?![A-Za-z0-9&])")
            if latin else None
        )

    def hangul_terms(self, text: str) -> list[tuple[int, Term]]:
        out: list[tuple[int, Term]] = []
        if self._hangul is None:
            return out
        for m in self._hangul.finditer(text):
            if not _SUFFIX_RE.fullmatch(m[2]):
                continue
            # "지침(가이드라인)": the Korean word is already there, the original only glossed.
            if m.start() > 1 and text[m.start() - 1] in "(（" and "가" <= text[m.start() - 2] <= "힣":
                continue
            word = self._spaced.get(re.sub(r"\s", "", m[1]), m[1])
            out.append((m.start(), self.terms[word]))
        return out

    def latin_terms(self, text: str) -> list[tuple[int, str]]:
        return [(m.start(), m[1]) for m in self._latin.finditer(text)] if self._latin else []


# Unknown abbreviations: 2–6 capitals (digits and & allowed inside), standing alone.
_ABBR_RE = re.compile(r"(?<![A-Za-z0-9&])([A-Z][A-Z0-9&]*[A-Z][A-Z0-9&]*)(?![A-Za-z0-9&])")
# Bounded repetitions: a megabyte without spaces must not make this quadratic.
_URLISH = re.compile(
    r"(?:https?://|www\.)\S+|(?<![\w.+-])[\w.+-]{1,64}@[\w.-]+"
    r"|(?<![\w.-])[\w-]{1,63}(?:\.[\w-]{1,63}){0,5}\.(?:kr|com|org|net|pdf|hwpx?)\b",
    re.I,
)


def _glossed_abbreviations(text: str) -> set[str]:
    """Abbreviations the document explains in Korean: ``인공지능(AI)``, ``업무 협약 (MOU)``,
    ``AI(인공지능)``, ``PBL(Project Based Learning, 프로젝트 기반 학습)``."""
    after_korean = re.finditer(rf"[{_HANGUL}]\s?[(（]\s*([A-Za-z][A-Za-z0-9&]*)\s*[)）,:：]", text)
    before_korean = re.finditer(
        rf"(?<![A-Za-z0-9&])([A-Za-z][A-Za-z0-9&]*)\s?[(（][^()（）\n]{{0,80}}?[{_HANGUL}]", text
    )
    return {m[1] for m in after_korean} | {m[1] for m in before_korean}


def _in_english(line: str, start: int, end: int) -> bool:
    """Part of an English phrase or name (``Korean Council``, ``PHUONG Thi``), not Korean prose."""
    before, after = line[max(0, start - 40) : start], line[end : end + 40]
    return bool(re.search(r"[A-Za-z]{2,}[\s,]*$", before) or re.match(r"[\s,]*[A-Za-z]{2,}", after))


def _check_words(lines: list[str], skip: set[int], terms: list[Term], body: range) -> list[Finding]:
    """Foreign words (each term once per line) and abbreviations (each once per document).

    Listed abbreviations are reported anywhere. Unlisted ones are reported only in the body's
    prose (not in tables or attachments, where they are mostly names: journals, schools'
    programmes, companies) and only standing alone (not ``K-POP``, ``COVID-19``, ``마음UP``).
    """
    matcher = TermMatcher([t for t in terms if t.suggestion or t.is_latin])
    allowed = {t.word for t in terms if not t.suggestion}
    glossed = _glossed_abbreviations("\n".join(lines))
    out: list[Finding] = []
    seen_abbr: set[str] = set()
    for i, line in enumerate(lines):
        if i in skip:
            continue
        seen_line: set[str] = set()
        for _, term in matcher.hangul_terms(line):
            if term.word in seen_line:
                continue
            seen_line.add(term.word)
            note = f" ({term.note})" if term.note else ""
            out.append(Finding(
                "foreign-word", i + 1, term.word,
                f"외래어 '{term.word}' 대신 쉬운 우리말을 쓰세요{note}.", term.suggestion,
            ))
        found: list[tuple[int, str]] = list(matcher.latin_terms(line))
        if i in body and not _is_table_row(line):
            found += [
                (m.start(), m[1]) for m in _ABBR_RE.finditer(line)
                if m[1] not in matcher.terms and _lone_abbreviation(line, m.start(), m.end())
            ]
        urls = [(m.start(), m.end()) for m in _URLISH.finditer(line)] if found else []
        for pos, abbr in sorted(found):
            if abbr in seen_abbr or abbr in allowed or any(a <= pos < b for a, b in urls):
                continue
            seen_abbr.add(abbr)
            if abbr in glossed:
                continue
            term = matcher.terms.get(abbr)
            if term is not None:
                note = f" ({term.note})" if term.note else ""
                out.append(Finding(
                    "abbreviation", i + 1, abbr,
                    f"로마자 약어 '{abbr}'를 우리말 풀이 없이 썼습니다{note}.", term.suggestion,
                ))
            else:
                out.append(Finding(
                    "abbreviation", i + 1, abbr,
                    f"로마자 약어 '{abbr}'를 우리말 풀이 없이 썼습니다. 처음 나올 때 우리말로 풀어 쓰세요.",
                    f"우리말 풀이({abbr})",
                ))
    return out


def _lone_abbreviation(line: str, start: int, end: int) -> bool:
    """An unlisted abbreviation worth reporting: 2–6 characters, not a Roman numeral or a
    placeholder (``OO``), not glued to a name (``K-POP``, ``COVID-19``, ``BPR/ISP``, ``마음UP``)
    and not part of an English phrase."""
    abbr = line[start:end]
    if len(abbr) > 6 or re.fullmatch(r"[IVXLC]+", abbr) or len(set(abbr)) == 1:
        return False
    before, after = line[start - 1 : start], line[end : end + 1]
    if re.match(rf"[-–/*·{_HANGUL}\d]", before) or re.match(r"[-–/*+\d]", after):
        return False
    return not _in_english(line, start, end)


# --------------------------------------------------------------------------- dates
# Recommended (한글 맞춤법 문장 부호 규정; 행정업무규정 시행규칙): "2026. 3. 2.(월)" — full year,
# a period after year, month and day. Reported: two-digit years with an apostrophe ("'26년",
# "’25. 12. 30."), slash dates ("3/2"), a full date without its final period ("2026. 3. 2",
# "4.24(금)"), hyphen dates ("2026-03-02"). Not reported: missing spaces ("2026.3.2."), which is a
# spacing matter, and a missing weekday.
_APOS = "’‘'`´΄ʹ′"
_APOS_YEAR = re.compile(
    rf"(?<![\d{_HANGUL}A-Za-z])[{_APOS}]\s?(\d{{2}})(?!\d)"
    r"(?:(\s?년)"  # 2: '26년
    r"|\.\s?(\d{1,2})\s?월"  # 3: ’25. 5월
    r"|\.\s?(\d{1,2})(?![\d월])(?:\.\s?(\d{1,2})(?!\d))?\.?"  # 4, 5: ’26. 1. 28.
    r"|\.)"
)
_SLASH_DATE = re.compile(r"(?<![\d/.A-Za-z])(?:(\d{4})/)?(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/A-Za-z])")
_NO_FINAL_DOT = re.compile(r"(?<![\d.])((?:19|20)\d{2})\.\s?(\d{1,2})\.\s?(\d{1,2})(?![\d.])")
_NO_MONTH_DOT = re.compile(r"(?<![\d.])((?:19|20)\d{2})\.\s?(\d{1,2})\s(\d{1,2})\.(?=\s?\([월화수목금토일]\))")
_SHORT_NO_DOT = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(\d{1,2})(?=\s?\([월화수목금토일]\))")
_RANGE_YM = re.compile(
    r"(?<![\d.])((?:19|20)\d{2})\.\s?(\d{1,2})(?![\d.])(?=\s?[~∼～])|(?<=[~∼～])\s?((?:19|20)\d{2})\.\s?(\d{1,2})(?![\d.])"
)
_HYPHEN_DATE = re.compile(r"(?<![\d-])((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?![\d-])")
_WEEKDAY_AFTER = re.compile(r"\s?\([월화수목금토일]\)")
_NUMBER_AFTER = re.compile(r"\s?(?:%|퍼센트|배|명|개|건|점|원|만|억|천|℃)")


def _valid(month: str | int, day: str | int | None = None) -> bool:
    m = int(month)
    return 1 <= m <= 12 and (day is None or 1 <= int(day) <= 31)


def _dotted(*parts: str | int | None) -> str:
    """``_dotted(2026, "03", "2")`` → ``2026. 3. 2.`` (``None`` parts left out)."""
    return " ".join(f"{int(p)}." for p in parts if p is not None)


def _full_year(yy: str | int) -> int:
    """``'26`` → 2026, ``'99`` → 1999: a two-digit year more than five years ahead is in the past."""
    return 2000 + int(yy) if int(yy) <= dt.date.today().year % 100 + 5 else 1900 + int(yy)


def _slash_is_date(line: str, m: re.Match[str]) -> bool:
    if m[1] or m[4]:
        return _valid(m[2], m[3]) if m[1] else _valid(m[2], m[3]) or _valid(m[3], m[2])
    if not _valid(m[2], m[3]):
        return False
    before, after = line[max(0, m.start() - 20) : m.start()], line[m.end() : m.end() + 20]
    if re.match(r"\s?(?:이상|이하|이내|미만|초과|수준|배|분의|명|개|건|점|%)", after):
        return False  # a fraction or a ratio: "1/2 이상", "2/26명"
    return bool(
        _WEEKDAY_AFTER.match(after)
        or re.match(r"\s?(?:[~∼]|까지|부터)", after)
        or re.search(r"(?:[~∼]|년|\d{2}\s?년)\s?$", before)
        or re.search(rf"[{_APOS}]\d{{2}}\s?$", before)
    )


def _apostrophe_year(line: str, m: re.Match[str]) -> tuple[str, str] | None:
    """``(excerpt, recommended form)`` for a two-digit year with an apostrophe."""
    year = _full_year(m[1])
    if m[2]:
        return m[0], f"{year}년"
    if m[3]:
        return (m[0], f"{year}년 {int(m[3])}월") if _valid(m[3]) else (m[0], f"{year}년")
    if m[4]:
        if not m[5] and _NUMBER_AFTER.match(line, m.end()):
            return None  # "‘15.3%’": a number in quotes
        if _valid(m[4], m[5]):
            return m[0].strip(), _dotted(year, m[4], m[5])
        return line[m.start() : m.start(1) + 2], f"{year}년"  # "’26.36개교": a year, then a count
    return m[0], f"{year}."


def _check_dates(lines: list[str], skip: set[int]) -> list[Finding]:
    """Date findings, at most one of each kind per line (real releases write "’25." dozens of
    times; one finding per line is enough to act on)."""
    out: list[Finding] = []
    missing_dot = "날짜 끝에 마침표가 빠졌습니다(일 뒤에도 마침표를 찍습니다)."

    for i, line in enumerate(lines):
        if i in skip:
            continue
        found: dict[str, tuple[str, str, str]] = {}  # kind → (excerpt, message, recommended)

        for m in _APOS_YEAR.finditer(line):
            if hit := _apostrophe_year(line, m):
                found.setdefault("apostrophe", (hit[0], "연도를 두 자리로 줄여 썼습니다('26). 연도는 네 자리로 씁니다.", hit[1]))
        for m in _SLASH_DATE.finditer(line):
            if not _slash_is_date(line, m):
                continue
            if m[1]:
                fixed = _dotted(m[1], m[2], m[3])
            elif m[4]:
                fixed = _dotted(m[4] if len(m[4]) == 4 else _full_year(m[4]), m[2], m[3])
            else:
                fixed = _dotted(None, m[2], m[3])
            found.setdefault("slash", (m[0], "빗금(/)으로 쓴 날짜는 월/일인지 일/월인지 헷갈립니다.", fixed))
        for m in _NO_FINAL_DOT.finditer(line):
            if _valid(m[2], m[3]):
                found.setdefault("final-dot", (m[0], missing_dot, _dotted(m[1], m[2], m[3])))
        for m in _NO_MONTH_DOT.finditer(line):
            if _valid(m[2], m[3]):
                found.setdefault("month-dot", (m[0], "월 뒤에 마침표가 빠졌습니다.", _dotted(m[1], m[2], m[3])))
        for m in _SHORT_NO_DOT.finditer(line):
            if _valid(m[1], m[2]):
                found.setdefault("final-dot", (m[0], missing_dot, _dotted(None, m[1], m[2])))
        for m in _RANGE_YM.finditer(line):
            y, mo = (m[1], m[2]) if m[1] else (m[3], m[4])
            if _valid(mo):
                fixed = f"{y}년 {int(mo)}월" if line.startswith("월", m.end()) else _dotted(y, mo)
                found.setdefault("ym-dot", (m[0].strip(), "연월 끝에 마침표가 빠졌습니다.", fixed))
        for m in _HYPHEN_DATE.finditer(line):
            if _valid(m[2], m[3]):
                found.setdefault("hyphen", (m[0], "줄표(-)로 쓴 날짜입니다. 공문서는 마침표로 씁니다.", _dotted(m[1], m[2], m[3])))
        out.extend(
            Finding("ambiguous-date", i + 1, text, message, f"'{fixed}'처럼 쓰세요.")
            for text, message, fixed in found.values()
        )
    return out


# --------------------------------------------------------------------------- document level
def _header_end(lines: list[str]) -> int:
    """Index just after the header: the last of the first :data:`HEAD_LINES` lines that carries
    a header label or an embargo statement (0 when there is none)."""
    end = 0
    for i, line in enumerate(lines[:HEAD_LINES]):
        if _EMBARGO_LABEL.search(line) or _EMBARGO_PHRASE.search(line) or (
            _HEADER_LINE.search(line) and len("".join(line.split())) <= 60
        ):
            end = i + 1
    return end


_ATTACHMENT = re.compile(r"^\s*[\[<【(]?\s*(?:붙\s*임|별\s*첨|참\s*고)(?=\s*(?:\d|[\]>】).:：|]|$))")


def _body_end(lines: list[str], start: int, contacts: set[int]) -> int:
    """Index of the first line after the body: the contact table or the first attachment label."""
    for i in range(start, len(lines)):
        if i in contacts or _ATTACHMENT.match(lines[i]):
            return i
    return len(lines)


def _contact_lines(lines: list[str]) -> set[int]:
    """Lines of the contact table: a contact label with a phone on it or within the next lines."""
    rows: set[int] = set()
    for i, line in enumerate(lines):
        if re.search(r"담\s*당\s*부\s*서|책\s*임\s*자|담\s*당\s*자", line) and len(line) < 300:
            window = [k for k in range(i, min(i + 4, len(lines))) if _PHONE_RE.search(lines[k])]
            if window:
                rows.update(range(i, window[-1] + 1))
    return rows


def _check_document(lines: list[str]) -> list[Finding]:
    out: list[Finding] = []
    lines = lines or [""]
    head = lines[:HEAD_LINES]
    if not any(_EMBARGO_LABEL.search(x) or _EMBARGO_PHRASE.search(x) for x in head):
        at = next((k for k, x in enumerate(head) if _HEADER_LINE.search(x)), 0)
        out.append(Finding(
            "missing-embargo", at + 1, lines[at].strip()[:40] if lines else "",
            "보도시점(엠바고) 표시가 없습니다.",
            "머리 표에 '보도시점: ○○○○. ○. ○.(○) ○○:○○ 이후' 또는 '즉시 보도'를 적으세요.",
        ))
    has_contact = any(
        _CONTACT_LABEL.search(line) and any(_PHONE_RE.search(x) for x in lines[i : i + 4])
        for i, line in enumerate(lines)
    )
    if not has_contact:
        out.append(Finding(
            "missing-contact", 1, lines[0].strip()[:40] if lines else "",
            "담당 부서·책임자·담당자 연락처가 없습니다.",
            "끝에 담당 부서, 책임자(과장)와 담당자의 이름·전화번호 표를 넣으세요.",
        ))
    return out


# --------------------------------------------------------------------------- entry points
def check_text(
    lines: list[str], *, terms: list[Term] | None = None, max_sentence_chars: int = MAX_SENTENCE_CHARS
) -> list[Finding]:
    """Check a release given as rendered lines (see :func:`render_lines`); findings in line order."""
    terms = load_terms() if terms is None else terms
    contacts = _contact_lines(lines)
    start = _header_end(lines)
    body = range(start, _body_end(lines, start, contacts))
    findings = _check_document(lines)
    findings += _check_bullets(lines, start, contacts)
    findings += _check_long(lines, contacts, max_sentence_chars)
    findings += _check_words(lines, contacts, terms, body)
    findings += _check_dates(lines, contacts)
    order = list(RULE_LABELS)
    findings.sort(key=lambda f: (f.line, order.index(f.rule) if f.rule in order else len(order)))
    return findings


def check_release(doc: Document, *, terms: list[Term] | None = None) -> list[Finding]:
    """Check a document read with :func:`dasan.ingest.readers.read_file`."""
    return check_text(render_lines(doc), terms=terms)
