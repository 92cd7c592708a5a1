"""Press questions answered like a press officer would.

A question whose best sources are press releases (documents of kind ``press``) gets an answer
shaped for the press desk:

- **first sentence = the answer**: the source sentence that states the asked value (a figure,
  a date, a place), quoted verbatim; a contact question ("어느 과 담당이에요?", "누구한테
  물어봐요?", "전화번호") is answered from the release's header — 담당 부서, 직위, 이름 and the
  officials' work phones (public contacts, not personal data: see
  :func:`dasan.security.pii.detect` with ``press_release=True``; the contact line carries the
  words that mark it as one); "언제 발표했어요?" from the 보도일; "언제 처음 발표했나" lists
  the releases on the topic in date order (:mod:`dasan.apps.press.timeline`);
- then a few supporting sentences of the same release (and of a second release when it
  answers as well: "두 보도자료 비교"), then the cited sources (headline, ministry, 보도일);
- **refusal** when no release covers the question. The signal is the share of the question's
  content words (IDF-weighted) found in the best release — its headline, subtitles and whole
  text — combined with the dense similarity of its best chunk (see :class:`PressQAConfig`
  for the thresholds and how they were chosen).

Everything here reads what the retriever returned under the caller's access filter; releases
are read whole through :meth:`dasan.rag.retrieve.Retriever.document_chunks` with that filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from dasan.korean.sentences import split_sentences
from dasan.korean.tokenize import tokenize_query
from dasan.rag.extract import unit_tokens
from dasan.types import Answer, Chunk, CitedSource, Hit

if TYPE_CHECKING:
    from dasan.rag.answer import Answerer
    from dasan.rag.retrieve import SearchFilter
    from dasan.rag.timewords import TimeWindow

NO_RELEASE = "제공된 보도자료에서 근거를 찾지 못했습니다."

# -- question kinds -------------------------------------------------------------------------
_CONTACT_RE = re.compile(
    r"담당\s*(?:부서|과|자|국|팀|공무원|직원)|어느\s*(?:과|부서|국|팀|쪽|곳에\s*(?:연락|문의|전화))|"
    r"(?:어디|어느\s*곳)(?:에|로)\s*(?:연락|문의|전화)|누구(?:한테|에게|께)?\s*(?:물어|문의|연락|전화)|"
    r"연락처|전화\s*번호|번호\s*(?:좀|를|가)|문의(?:하려면|할\s*곳|처)|소관|부서(?:가|는)?\s*어디|"
    r"어디\s*(?:과|부서)"
)
_TIMELINE_RE = re.compile(
    r"(?:처음|최초|맨\s*처음|첫\s*번째로|첫)\s*(?:으로)?\s*(?:발표|보도|공고|나왔|나온|알렸|공개|냈)|언제\s*처음|"
    r"보도자료\s*(?:목록|들을|를\s*(?:모두|전부|다))|(?:몇\s*번|몇\s*차례)\s*(?:이나\s*)?(?:발표|보도|냈|나왔)|"
    r"(?:그동안|지금까지)\s*(?:나온|발표된|낸)\s*보도자료|타임라인|경과\s*(?:를|좀)\s*(?:정리|알려)"
)
_RELEASED_WHEN_RE = re.compile(
    r"(?:언제|며칠|몇\s*월\s*몇\s*일)\s*(?:에|쯤|경)?\s*(?:발표|보도|공고|배포|나왔|나온|냈|낸|알렸|공개)"
)


def is_contact_question(question: str) -> bool:
    return bool(_CONTACT_RE.search(question))


def is_timeline_question(question: str) -> bool:
    return bool(_TIMELINE_RE.search(question))


def asks_release_date(question: str) -> bool:
    """"언제 발표했어요?": the answer is the 보도일 itself, not a date in the text."""
    return bool(_RELEASED_WHEN_RE.search(question))


# -- value types a press question asks for -----------------------------------------------------
_NUM = r"\d[\d,]*(?:\.\d+)?"
_PRESS_TYPES: list[tuple[re.Pattern[str], re.Pattern[str]]] = [
    # 몇 곳 / 몇 개교 / 몇 명 / 몇 팀 / 몇 권 / 규모
    (re.compile(r"몇\s*(?:곳|개|개교|개국|명|팀|권|건|종|회|차례|기관|학교|교)|규모|인원|물량|얼마나\s*(?:많|되|늘|줄)"),
     re.compile(rf"{_NUM}\s*(?:만|천|백)?\s*(?:곳|개교|개국|개소|개|명|팀|권|건|종|회|기관|교)(?![가-힣])|"
                rf"{_NUM}\s*(?:만|천)\s*(?:명|권|개)")),
    # 얼마 (money, ratio)
    (re.compile(r"얼마|금액|비용|예산|사업비|지원금|장려금|포상|상금|격려금|인건비|단가"),
     re.compile(rf"{_NUM}\s*(?:조|억|천만|백만|만|천)?\s*(?:천|백)?\s*원|{_NUM}\s*배|{_NUM}\s*(?:%|퍼센트)")),
    # % / 비율
    # (a table states its unit in a header cell: "비율(%) | 3.0 | 5.1")
    (re.compile(r"몇\s*(?:%|퍼센트|프로)|비율|비중|응답률|\d+\s*%|률이"),
     re.compile(rf"{_NUM}\s*(?:%|％|퍼센트|%p)|\((?:%|％)\)\s*\|\s*{_NUM}")),
    # 언제 / 기한 / 날짜
    (re.compile(r"언제|며칠|날짜|기한|마감|일정|까지\s*(?:내|제출|신청)|부터\s*(?:신청|접수)|몇\s*월|시기"),
     re.compile(r"\d{1,2}\s*월\s*\d{1,2}\s*일|\d{1,2}\s*\.\s*\d{1,2}\s*\.\s*\(\s*[월화수목금토일]|\d{4}\s*년\s*\d{1,2}\s*월|"
                r"\d{1,2}\s*월\s*(?:초|중|말|중순|하순)")),
    # 몇 학년도 / 몇 년도
    (re.compile(r"몇\s*(?:학년도|년도)"), re.compile(r"\d{4}\s*(?:학년도|년도)|[’']\d{2}\s*학년도")),
    # 나이
    (re.compile(r"나이|몇\s*살|연령|몇\s*세"), re.compile(r"\d+\s*세|\d+\s*살")),
    # 몇 배 / 몇 년
    (re.compile(r"몇\s*배"), re.compile(rf"{_NUM}\s*배")),
    (re.compile(r"몇\s*년|기간|얼마\s*동안"), re.compile(rf"{_NUM}\s*(?:년|개월)\s*(?:간|동안)?")),
    # 어디로 들어가 / 사이트 / 신청 창구
    (re.compile(r"어디(?:로|서|에서)\s*(?:들어가|접속|신청|확인|보|내|접수)|사이트|누리집|홈페이지|플랫폼|주소"),
     re.compile(r"https?://|www\.|[a-z0-9-]+\.(?:go|or|re|ac)\.kr|누리집|홈페이지|포털|플랫폼|‘[^’]{2,20}’")),
    # 이메일 / 전자우편
    (re.compile(r"이메일|전자\s*우편|메일"), re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")),
    # 시간 (시험시간 …)
    (re.compile(r"시간|몇\s*시"), re.compile(r"\d{1,2}\s*:\s*\d{2}|\d+\s*(?:시간|분)|\d+(?:\.\d+)?\s*배")),
]


#: "몇 곳" asks for a count of places: the counters a release writes such a count with.
_COUNTERS: dict[str, str] = {
    "곳": "곳|개소|개|기관", "개": "개|곳", "개교": "개교|교|개\\s*대학|개\\s*학교", "교": "개교|교",
    "명": "명|인", "팀": "팀|개팀", "권": "권", "건": "건", "개국": "개국|개\\s*국가", "종": "종", "회": "회|차례",
    "기관": "기관|곳|개", "학교": "개교|교|개\\s*학교",
}
_HOW_MANY = re.compile(r"몇\s*(개교|개국|곳|개|교|명|팀|권|건|종|회|기관|학교)")


def value_patterns(question: str) -> list[re.Pattern[str]]:
    """Shapes of the values a press question asks for (a count, an amount, a date …). A
    "몇 곳/몇 명/몇 팀" question asks for a count *of that counter*: "84명" does not answer
    "몇 곳"."""
    out = [v for q, v in _PRESS_TYPES if q.search(question)]
    counters = [_COUNTERS[m] for m in dict.fromkeys(_HOW_MANY.findall(question))]
    if counters:
        count = _PRESS_TYPES[0][1]
        out = [v for v in out if v is not count]
        # the counter ends the word or takes a particle ("65개가", "80팀(1,496명)이"), not "개월"
        out += [re.compile(rf"{_NUM}\s*(?:만|천|백)?\s*(?:{c})(?=[^가-힣]|[이가은는을를의와과도로에만씩]|$)")
                for c in counters]
    return out


# -- configuration -----------------------------------------------------------------------------
@dataclass
class PressQAConfig:
    k: int = 12  # chunks retrieved for a press question (several per release)
    releases: int = 3  # releases read whole
    # Refusal gate (see Signal.support), chosen on ../shared/bench/press_qa_dev.jsonl only; how,
    # and how thin the margin is, in bench/README.md.
    lexical_weight: float = 0.05
    min_support: float = 0.9046
    min_lexical_only: float = 0.35  # without a dense index: length-normalised BM25 alone
    # Composition.
    lead_max_chars: int = 260  # a longer lead sentence is cut around the asked value
    more_units: int = 3  # supporting sentences after the lead (same release)
    budget_chars: int = 420  # answer sentences at most (sources line excluded)
    unit_ratio: float = 0.55  # a supporting sentence scores at least this share of the lead's
    other_ratio: float = 0.6  # a second release is quoted when its best sentence is this close
    value_bonus: float = 0.6  # score multiplier 1 + bonus for a sentence stating the asked value
    value_lead_ratio: float = 0.5  # the best value-stating sentence leads when it scores this share of the best
    value_extra_chars: int = 150  # the sentences stating further asked kinds of value may exceed the budget by this
    long_unit: int = 200  # longer sentences (or table rows) are scored down by sqrt(long_unit / length)
    dense_weight: float = 0.6
    dense_floor: float = 0.8
    dense_units: int = 48
    extra: dict[str, Any] = field(default_factory=dict)


# -- release reading ---------------------------------------------------------------------------
_BULLET = re.compile(r"^\s*(?:[□■▣◼◆◇❏○◦●❍•▶▷►※*ㅇ\-–·ㆍ➊➋➌➍➎①②③④⑤]|\d{1,2}[.)]|[가-하][.)])\s*")


_TRAILING_DASH = re.compile(r"\s*[-–―~]\s*$")


def _clean(unit: str) -> str:
    """A unit without its bullet and without the dashes around a subtitle (``- … -``)."""
    return _TRAILING_DASH.sub("", _BULLET.sub("", unit)).strip()


def _cells(row: str, width: int) -> list[str]:
    """A long table row cut between cells into pieces of about ``width`` characters."""
    out, cur = [], ""
    for cell in row.split(" | "):
        if cur and len(cur) + len(cell) + 3 > width:
            out.append(cur)
            cur = cell
        else:
            cur = f"{cur} | {cell}" if cur else cell
    if cur:
        out.append(cur)
    return out


def press_units(text: str, short: int = 120, row_width: int = 160) -> list[str]:
    """Sentences of a release's text: each line split into sentences, bullets removed; table
    rows kept whole (a row is the unit of a table) unless long, then cut between cells."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            pieces = _cells(line, row_width) if len(line) > row_width else [line]
        elif len(line) <= short:
            pieces = [line]
        else:
            pieces = split_sentences(line)
        for piece in pieces:
            u = _clean(piece)
            if len(u) >= 4:
                out.append(u)
    return out


@dataclass
class Release:
    """One retrieved press release: its best hit, its chunks (permitted ones) and header."""

    rank: int
    hit: Hit
    chunks: list[Chunk]

    @property
    def document_id(self) -> str:
        return self.hit.chunk.document_id

    @property
    def meta(self) -> dict[str, Any]:
        return self.hit.chunk.meta

    @property
    def title(self) -> str:
        return self.hit.chunk.citation.title or self.meta.get("title") or ""

    @property
    def label(self) -> str:
        return self.hit.chunk.citation.label

    def head_units(self) -> list[str]:
        return [self.title, *[str(s) for s in self.meta.get("subtitles") or []]]

    def units(self) -> list[tuple[Chunk, str]]:
        """(chunk, sentence) of the headline, subtitles and text, each sentence once."""
        seen: set[str] = set()
        out: list[tuple[Chunk, str]] = []
        first = self.chunks[0] if self.chunks else self.hit.chunk
        pairs = [(first, _clean(u)) for u in self.head_units()]
        pairs += [(c, u) for c in self.chunks or [self.hit.chunk] for u in press_units(c.text)]
        for c, u in pairs:
            key = re.sub(r"\W+", "", u)
            if u and key not in seen:
                seen.add(key)
                out.append((c, u))
        return out

    def header_text(self, doc_meta: dict[str, Any] | None = None) -> str:
        """The release's header as text: ministry, departments and contact roles (the contact
        table is kept on the document, not in the chunks)."""
        m = {**self.meta, **(doc_meta or {})}
        parts = ["보도자료", str(m.get("ministry") or ""), str(m.get("bureau") or ""), str(m.get("division") or "")]
        parts += [str(d) for d in m.get("departments") or []]
        for c in m.get("contacts") or []:
            if isinstance(c, dict):
                parts += [str(c.get(k) or "") for k in ("role", "department", "position", "name")]
        parts += [str(t) for t in m.get("tags") or []]
        return " ".join(p for p in parts if p)

    def text(self, doc_meta: dict[str, Any] | None = None) -> str:
        return "\n".join([self.header_text(doc_meta), *self.head_units(),
                          *(c.text for c in self.chunks or [self.hit.chunk])])


def is_document_question(hits: list[Hit]) -> bool:
    """Whether a question (asked of a store that holds press releases) is answered from
    releases: its best hit is a press release. Statutes, records and other documents (manuals,
    notices) keep their own composer."""
    return bool(hits) and hits[0].chunk.meta.get("kind") == "press"


def group_releases(hits: list[Hit]) -> list[tuple[Hit, list[Hit]]]:
    """Hits of press releases grouped by document, in rank order of each document's best hit."""
    order: dict[str, tuple[Hit, list[Hit]]] = {}
    for h in hits:
        if h.chunk.meta.get("kind") != "press":
            continue
        if h.chunk.document_id not in order:
            order[h.chunk.document_id] = (h, [])
        order[h.chunk.document_id][1].append(h)
    return list(order.values())


def sources_line(cites: list[CitedSource]) -> str:
    """``출처: [1][2] 헤드라인 (교육부 2026. 5. 18.) / [3] …``: markers of one release together."""
    by_label: dict[str, list[int]] = {}
    for c in cites:
        by_label.setdefault(c.chunk.citation.label, []).append(c.marker)
    return "출처: " + " / ".join(f"{''.join(f'[{m}]' for m in ms)} {label}" for label, ms in by_label.items())


def ko_date(iso: str | None) -> str:
    """``2026-01-28`` → ``2026. 1. 28.(수)``."""
    if not iso:
        return ""
    try:
        d = date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso)
    return f"{d.year}. {d.month}. {d.day}.({'월화수목금토일'[d.weekday()]})"


# -- the answerer ----------------------------------------------------------------------------------
_NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "SN", "NR", "XR"})


def content_nouns(text: str) -> list[str]:
    """The question's content words for the coverage signal: nouns, names, foreign words and
    numbers (Kiwi), without question words. Verbs are left out: a question's colloquial verbs
    ("뽑히면", "들어가", "바뀌나요") rarely occur in a release's official wording."""
    from dasan.korean.tokenize import QUESTION_FORMS, STOP_FORMS, kiwi, normalise

    out: list[str] = []
    for t in kiwi().tokenize(normalise(text)):
        if t.tag in _NOUN_TAGS:
            form = t.form.lower() if t.tag == "SL" else t.form
            if form not in STOP_FORMS and form not in QUESTION_FORMS:
                out.append(form)
    return list(dict.fromkeys(out))


def question_core(question: str, window: TimeWindow | None = None) -> str:
    """The question without what the header or the search filter answers: the contact request
    ("담당 부서랑 번호 좀") and the publishing time ("4월 중순에", "5월 말 보도자료")."""
    core = _CONTACT_RE.sub(" ", question)
    for phrase in window.phrases if window is not None else ():
        core = core.replace(phrase, " ")
    return re.sub(r"보도\s*자료", " ", core)


@dataclass
class Signal:
    """How well the best release covers the question (the refusal gate's inputs).

    - ``coverage``: IDF-weighted share of the question's content nouns found in the best
      release (header, headline, subtitles, text);
    - ``sentence``: e5 cosine between the question and the release's closest sentence (None
      without a dense index);
    - ``lexical``: the best BM25 score of the release's chunks divided by the sum of the
      question terms' IDF (a length-normalised BM25).
    """

    coverage: float
    sentence: float | None
    lexical: float

    def support(self, cfg: PressQAConfig) -> float | None:
        """The refusal gate's score: the closest sentence's cosine plus a small share of the
        (capped) normalised BM25 score; None without a dense index."""
        if self.sentence is None:
            return None
        return self.sentence + cfg.lexical_weight * min(self.lexical, 1.0)

    def ok(self, cfg: PressQAConfig) -> bool:
        support = self.support(cfg)
        if support is None:  # lexical-only retrieval
            return self.lexical >= cfg.min_lexical_only
        return support >= cfg.min_support

    def note(self, cfg: PressQAConfig | None = None) -> str:
        cfg = cfg or PressQAConfig()
        sent = "" if self.sentence is None else f" sentence={self.sentence:.3f} support={self.support(cfg):.4f}"
        return f"press coverage={self.coverage:.2f} lexical={self.lexical:.2f}{sent}"


@dataclass
class Evidence:
    """Every candidate release's sentences, scored once per question."""

    releases: list[Release]
    scored: list[list[tuple[Chunk, str, float, int]]]  # per release: (chunk, unit, score, position)
    sims: dict[str, float]
    patterns: list[re.Pattern[str]] = field(default_factory=list)  # value shapes the question asks for


class PressAnswerer:
    """Answers over press releases; built by :class:`dasan.rag.answer.Answerer` per question."""

    def __init__(self, answerer: Answerer, config: PressQAConfig | None = None) -> None:
        self.answerer = answerer
        self.retriever = answerer.retriever
        self.config = config or PressQAConfig()
        self._doc_meta: dict[str, dict[str, Any]] = {}
        self.last_kind = ""  # what the last answer was: facts, contact, release_date, timeline, refused

    def doc_meta(self, document_id: str) -> dict[str, Any]:
        if document_id not in self._doc_meta:
            doc = self.retriever.store.get_document(document_id)
            self._doc_meta[document_id] = dict(doc.metadata) if doc is not None else {}
        return self._doc_meta[document_id]

    # -- evidence --------------------------------------------------------------------------
    def question_weights(self, question: str) -> dict[str, float]:
        idf = self.answerer._idf()
        return {t: idf(t) for t in dict.fromkeys(tokenize_query(question))}

    def releases(self, hits: list[Hit], flt: SearchFilter | None) -> list[Release]:
        groups = group_releases(hits)[: self.config.releases]
        whole = self.retriever.document_chunks([h.chunk.id for h, _ in groups], flt)
        return [Release(i, h, whole.get(h.chunk.id) or [h.chunk]) for i, (h, _) in enumerate(groups)]

    def evidence(self, question: str, releases: list[Release]) -> Evidence:
        cfg = self.config
        per_release = [rel.units() for rel in releases]
        texts = list(dict.fromkeys(u for us in per_release for _, u in us))
        weights = self.question_weights(question)
        total = sum(weights.values()) or 1.0
        lexical = {t: sum(w for q, w in weights.items() if q in toks) / total
                   for t, toks in zip(texts, unit_tokens(texts), strict=True)}
        sims: dict[str, float] = {}
        dense = self.retriever.dense
        if dense is not None and lexical:
            # The best release's sentences sharing most words with the question, and the best
            # of the others (embedding a sentence costs ≈ 10 ms on 2 cores when not cached).
            lead = list(dict.fromkeys(u for _, u in per_release[0]))
            best = sorted(lead, key=lambda t: -lexical[t])[: cfg.dense_units]
            others = [t for t in sorted(lexical, key=lambda t: -lexical[t]) if t not in set(best)]
            best += others[: max(0, cfg.dense_units // 2)]
            qv = dense.embedder.embed_queries([question])[0]
            sims = dict(zip(best, (dense.embedder.embed_passages(best) @ qv).tolist(), strict=True))
        patterns = value_patterns(question)

        def score(u: str) -> float:
            semantic = max(0.0, (sims.get(u, 0.0) - cfg.dense_floor) / (1 - cfg.dense_floor))
            sc = lexical.get(u, 0.0) + cfg.dense_weight * semantic
            if len(u) > cfg.long_unit:  # a long unit shares many words by its length alone
                sc *= (cfg.long_unit / len(u)) ** 0.5
            if patterns and any(p.search(u) for p in patterns):
                sc *= 1 + cfg.value_bonus
            return sc

        scored = [[(c, u, score(u), i) for i, (c, u) in enumerate(us)] for us in per_release]
        return Evidence(releases, scored, sims, patterns)

    def signal(self, question: str, hits: list[Hit], ev: Evidence, window: TimeWindow | None = None) -> Signal:
        best = ev.releases[0]
        idf = self.answerer._idf()
        nouns = content_nouns(question_core(question, window))
        weights = {t: idf(t) for t in nouns}
        toks = set(unit_tokens([best.text(self.doc_meta(best.document_id))])[0])
        coverage = sum(w for t, w in weights.items() if t in toks) / (sum(weights.values()) or 1.0)
        q_idf = sum(idf(t) for t in dict.fromkeys(tokenize_query(question))) or 1.0
        bm25 = max((h.scores.get("bm25", 0.0) for h in hits if h.chunk.document_id == best.document_id), default=0.0)
        sentence = None
        if self.retriever.dense is not None:
            lead = {u for _, u, _, _ in ev.scored[0]}
            sentence = max((v for u, v in ev.sims.items() if u in lead), default=-1.0)
        return Signal(coverage, sentence, bm25 / q_idf)

    # -- answers ---------------------------------------------------------------------------
    def refusal(self, hits: list[Hit], window: TimeWindow | None, note: str) -> Answer:
        text = NO_RELEASE
        if window is not None:
            text = f"{window.describe()} 보도자료 중에서는 근거를 찾지 못했습니다."
        return Answer(text=text, refused=True, hits=hits, backend="extractive", notes=[note])

    def answer(self, question: str, hits: list[Hit], flt: SearchFilter | None,
               window: TimeWindow | None = None) -> Answer:
        releases = self.releases(hits, flt)
        notes = []
        if window is not None:
            notes.append(f"보도일 {window.describe()} ({', '.join(window.phrases)}; 기준일 {window.reference})")
        self.last_kind = "refused"
        if not releases:
            return self.refusal(hits, window, "; ".join(["no press release", *notes]))
        ev = self.evidence(question, releases)
        sig = self.signal(question, hits, ev, window)
        notes.insert(0, sig.note(self.config))
        if not sig.ok(self.config):
            return self.refusal(hits, window, "; ".join(notes))
        if is_timeline_question(question):
            from dasan.apps.press.timeline import timeline_answer

            self.last_kind = "timeline"
            ans = timeline_answer(self.retriever, question, flt, window)
        elif is_contact_question(question):
            self.last_kind = "contact"
            ans = self.contact(releases[0])
        elif asks_release_date(question):
            self.last_kind = "release_date"
            ans = self.release_date(releases[0])
        else:
            self.last_kind = "facts"
            ans = self.facts(ev)
        ans.notes = [*notes, *ans.notes]
        ans.hits = hits
        return ans

    def _sources_line(self, cites: list[CitedSource]) -> str:
        return sources_line(cites)

    def contact(self, rel: Release) -> Answer:
        """담당 부서, 직위·이름·전화 from the release's header (document metadata)."""
        meta = self.doc_meta(rel.document_id)
        contacts = [c for c in meta.get("contacts") or [] if isinstance(c, dict)]
        departments = [str(d) for d in meta.get("departments") or rel.meta.get("departments") or []]
        for c in contacts:
            dep = str(c.get("department") or "")
            if dep and dep not in departments:
                departments.append(dep)
        first = rel.chunks[0] if rel.chunks else rel.hit.chunk
        headline = _verbatim(rel.title, first.text)
        if not departments and not contacts:
            what = "보도자료" if rel.meta.get("kind") == "press" else "문서"
            text = f"이 {what}에는 담당 부서가 적혀 있지 않습니다: {rel.title} [1]"
            cite = CitedSource(marker=1, chunk=first, quote=headline)
            return Answer(text=f"{text}\n{self._sources_line([cite])}", refused=False, citations=[cite])
        parts = []
        for dep in departments:
            people = [c for c in contacts if str(c.get("department") or "") == dep] or (
                [c for c in contacts if not c.get("department")] if dep == departments[0] else [])
            who = ", ".join(
                " ".join(x for x in (str(c.get("role") or ""), str(c.get("position") or ""), str(c.get("name") or ""),
                                     " · ".join(str(p) for p in c.get("phones") or [])) if x)
                for c in people
            )
            parts.append(f"{dep}({who})" if who else dep)
        # One line: the PII filter recognises a contact line by its 담당/과장/사무관 words, so the
        # officials' work phones on it are not masked (see dasan/security/pii.py).
        line = f"담당 부서는 {', '.join(parts)}입니다. [1]"
        # The contact table is kept on the document (not in chunk text): the citation points to
        # the release (its headline), the contacts are the header's as parsed at ingest.
        cite = CitedSource(marker=1, chunk=first, quote=headline, score=1.0)
        text = f"{line}\n{self._sources_line([cite])}"
        return Answer(text=text, refused=False, citations=[cite], notes=["담당 부서·연락처: 보도자료 담당 부서 표"])

    def release_date(self, rel: Release) -> Answer:
        iso = rel.meta.get("release_date")
        first = rel.chunks[0] if rel.chunks else rel.hit.chunk
        ministry = rel.meta.get("ministry") or ""
        line = f"{ministry + '는 ' if ministry else ''}{ko_date(iso)} ‘{rel.title}’ 보도자료로 발표했습니다. [1]"
        cite = CitedSource(marker=1, chunk=first, quote=_verbatim(rel.title, first.text), score=1.0)
        return Answer(text=f"{line}\n{self._sources_line([cite])}", refused=False, citations=[cite])

    def _pick(self, scored: list[tuple[Chunk, str, float, int]], ev: Evidence, more: int,
              budget: int) -> list[tuple[Chunk, str, float, int]]:
        """One release's sentences: the lead (the best sentence stating the asked kind of
        value when it scores ``value_lead_ratio`` of the best, else the best), then up to
        ``more`` sentences scoring ``unit_ratio`` of the lead within ``budget`` characters; a
        release that states the asked kind of value always shows its best such sentence."""
        cfg = self.config
        best = max(scored, key=lambda x: x[2])
        stating = [x for x in scored if ev.patterns and any(p.search(x[1]) for p in ev.patterns)]
        top_value = max(stating, key=lambda x: x[2]) if stating else None
        if top_value is not None and top_value[2] >= cfg.value_lead_ratio * best[2]:
            best = top_value
        picked = [best]
        size = len(best[1])
        # Supporting sentences: those stating the asked kind of value first (a question asking
        # for a figure is served by the sentences that state figures), then the rest.
        value_ids = {id(x) for x in stating}
        for item in sorted(scored, key=lambda x: (id(x) not in value_ids, -x[2])):
            if len(picked) > more:
                break
            if item is best or item[2] < cfg.unit_ratio * best[2] or size + len(item[1]) > budget:
                continue
            picked.append(item)
            size += len(item[1])
        # Each kind of value asked for ("몇 학년도 … 무슨 포상"): the release's best sentence stating
        # it, even where it shares few words with the question.
        for p in ev.patterns:
            if any(p.search(x[1]) for x in picked):
                continue
            cands = [x for x in scored if p.search(x[1])]
            if cands and size <= budget + cfg.value_extra_chars:
                item = max(cands, key=lambda x: x[2])
                picked.append(item)
                size += len(item[1])
        return picked

    def facts(self, ev: Evidence) -> Answer:
        cfg = self.config
        lead_scored = ev.scored[0]
        if not lead_scored:
            return Answer(text=NO_RELEASE, refused=True)
        top = max(lead_scored, key=lambda x: x[2])[2]
        chosen = [self._pick(lead_scored, ev, cfg.more_units, cfg.budget_chars)]
        # A second release that answers as well (questions comparing or joining two releases).
        for rel_scored in ev.scored[1:]:
            if rel_scored and max(x[2] for x in rel_scored) >= cfg.other_ratio * top:
                chosen.append(self._pick(rel_scored, ev, 1, cfg.budget_chars // 2))
                break
        # One citation per chunk quoted (a release's sentences may come from several chunks),
        # so every quote line is verbatim text of the chunk it cites.
        lines: list[str] = []
        cites: list[CitedSource] = []
        marker_of: dict[str, int] = {}
        quotes: dict[str, list[str]] = {}
        for items in chosen:
            first, *rest = items
            rest.sort(key=lambda x: x[3])
            for chunk, u, sc, _ in [first, *rest]:
                if chunk.id not in marker_of:
                    marker_of[chunk.id] = len(cites) + 1
                    cites.append(CitedSource(marker=marker_of[chunk.id], chunk=chunk, quote="", score=sc))
                    quotes[chunk.id] = []
                quotes[chunk.id].append(_verbatim(u, chunk.text))
                lines.append(f"{_shorten(u, cfg.lead_max_chars)} [{marker_of[chunk.id]}]")
        for c in cites:
            c.quote = "\n".join(quotes[c.chunk.id])
        text = "\n".join(lines) + "\n" + self._sources_line(cites)
        return Answer(text=text, refused=False, citations=cites)


def _verbatim(unit: str, text: str) -> str:
    """The unit as it stands in the chunk text (a headline or subtitle taken from the header
    may differ in spacing or dashes): the chunk line containing it, else the unit."""
    if unit in text:
        return unit
    squeezed = re.sub(r"\s+", "", unit)
    for line in text.splitlines():
        if squeezed and squeezed in re.sub(r"\s+", "", line):
            return line.strip()
    return unit


def _shorten(unit: str, limit: int) -> str:
    if len(unit) <= limit:
        return unit
    cut = unit[:limit]
    sp = cut.rfind(" ")
    return (cut[:sp] if sp > limit // 2 else cut) + "…"
