"""Accident registers as records: typed columns and structured queries from Korean questions.

A register (CSV/XLSX ingested as kind ``records``: one chunk per row) is read back as a table.
Each column gets a type from its values — ``date`` (발생일시), ``number``, ``category`` (few
distinct values: 호선, 사고유형, 역) or ``text`` (원인, 조치 …). A question such as
"작년에 2호선에서 출입문 끼임이 몇 건?" becomes a structured query over those columns —
filters (a year or month, category values named in the question, words of a category value),
an optional group-by ("역별", "가장 많은 역"), and count / top-N / latest-N — which is shown to
the user next to the result. The counting is done here, over the rows; no model counts anything.
Every answer lists the record ids it is made of.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dasan.types import Chunk

# Everyday names of railway equipment → the words registers use (general vocabulary).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "스크린도어": ("승강장안전문", "안전문"),
    "psd": ("승강장안전문", "안전문"),
    "에스컬": ("에스컬레이터",),
    "엘베": ("엘리베이터", "승강기"),
    "엘리베이터": ("승강기",),
    # crowding in everyday words
    **dict.fromkeys(("몰려", "몰렸", "몰린", "붐비", "붐벼", "붐빈", "북적"), ("인파", "혼잡", "밀집")),
}
SEASONS: dict[str, tuple[int, ...]] = {"봄": (3, 4, 5), "여름": (6, 7, 8), "가을": (9, 10, 11), "겨울": (12, 1, 2),
                                       "동절기": (12, 1, 2), "하절기": (6, 7, 8)}
# Words that name a column for grouping ("역별", "가장 많은 역") → substrings of column names.
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "역": ("역",), "정거장": ("역",), "구간": ("구간", "역"),
    "호선": ("호선", "노선"), "노선": ("노선", "호선"),
    "유형": ("유형", "종류"), "종류": ("종류", "유형"), "사고": ("사고유형",),
    "원인": ("원인",), "장소": ("장소", "위치"), "위치": ("위치", "장소"),
}
_COUNT = re.compile(r"몇\s*(건|번|회|차례)|건수|횟수|얼마나\s*(자주|많이)|총\s*몇")
_GROUP = re.compile(r"(?P<w>[가-힣]+?)\s*(별로|별|마다)(?![가-힣])|(가장|제일)\s*많(은|이)\s*"
                    r"(?:(?:난|나온|발생한|생긴|일어난|있었던|있는|발생하는|일어나는)\s+)?(?P<w2>[가-힣]+)"
                    r"|(어느|어떤|무슨)\s*(?P<w3>[가-힣]+?)(에서|이|가|의)?\s*(가장|제일)")
_LATEST = re.compile(r"최근\s*(\d+)\s*(건|개)")
_YEAR = re.compile(r"(20\d{2})\s*년")
_MONTH = re.compile(r"(?:(20\d{2})\s*년\s*)?(\d{1,2})\s*월")
_SP = re.compile(r"\s+")
_DATE_RE = re.compile(r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})")
_NUM_RE = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def _squash(text: str) -> str:
    return _SP.sub("", text).lower()


def parse_date(value: str) -> date | None:
    m = _DATE_RE.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class Record:
    record_id: str
    chunk_id: str
    label: str  # citation label, e.g. "철도사고_기록_2025 #R-2025-001"
    fields: dict[str, str]


@dataclass
class Table:
    document_id: str
    title: str
    rows: list[Record]
    kinds: dict[str, str] = field(default_factory=dict)  # column → date | number | category | text

    @property
    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for r in self.rows:
            for k in r.fields:
                seen.setdefault(k, None)
        return list(seen)

    def short(self, col: str) -> bool:
        """A column of short labels (호선, 사고유형, 역/구간): matched against the question."""
        if self.kinds.get(col) == "category":
            return True
        # a small register has too few rows for its label columns to repeat: short texts then
        vals = [r.fields.get(col, "") for r in self.rows if r.fields.get(col)]
        return self.kinds.get(col) == "text" and len(self.rows) < 60 and bool(vals) and \
            max(len(v) for v in vals) <= 30 and sum(len(v) for v in vals) / len(vals) <= 15

    def date_column(self) -> str | None:
        return next((c for c in self.columns if self.kinds.get(c) == "date"), None)

    def as_of(self) -> date | None:
        col = self.date_column()
        dates = [d for r in self.rows if col and (d := parse_date(r.fields.get(col, "")))]
        return max(dates) if dates else None


def fields_of(chunk: Chunk) -> dict[str, str]:
    """The row's cells: the reader's ``fields`` when stored, else the ``열: 값`` lines of its text."""
    stored = chunk.meta.get("fields") if isinstance(chunk.meta, dict) else None
    if isinstance(stored, dict):
        return {str(k): str(v) for k, v in stored.items()}
    out: dict[str, str] = {}
    for line in chunk.text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.strip() and len(key) <= 40:
            out[key.strip()] = value.strip()
    return out


def infer_kinds(rows: list[Record]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    cols: dict[str, list[str]] = {}
    for r in rows:
        for k, v in r.fields.items():
            cols.setdefault(k, []).append(v)
    for col, values in cols.items():
        vals = [v for v in values if v.strip()]
        if vals and sum(parse_date(v) is not None for v in vals) >= 0.9 * len(vals):
            kinds[col] = "date"
        elif vals and sum(bool(_NUM_RE.match(v.strip())) for v in vals) >= 0.9 * len(vals):
            kinds[col] = "number"
        elif vals and len(set(vals)) <= max(3, len(vals) * 0.5) and max(len(v) for v in vals) <= 20 \
                and sum(len(v) for v in vals) / len(vals) <= 10:
            kinds[col] = "category"  # short labels that repeat: 호선, 역, 장소, 사고유형, 보고여부
        else:
            kinds[col] = "text"
    return kinds


def table_of(document_id: str, title: str, chunks: Iterable[Chunk]) -> Table:
    rows = [Record(str(c.meta.get("record_id") or c.ordinal + 1), c.id, c.citation.label, fields_of(c))
            for c in chunks]
    t = Table(document_id, title, rows)
    t.kinds = infer_kinds(rows)
    return t


# -- queries -----------------------------------------------------------------------------------
@dataclass
class Filter:
    column: str
    op: str  # "=", "contains", "between"
    value: Any

    def describe(self) -> str:
        if self.op == "between":
            a, b = self.value
            return f"{self.column} {a.isoformat()} ~ {b.isoformat()}"
        if self.op == "contains":
            return f"{self.column}에 '{self.value}' 포함"
        if self.op == "in":
            return f"{self.column} ∈ {{{', '.join(self.value)}}}"
        if self.op == "months":
            return f"{self.column} 월 ∈ {{{', '.join(str(m) for m in self.value)}}}"
        if self.op == "any":
            return "어느 항목에든 " + "/".join(f"'{v}'" for v in self.value) + " 포함"
        return f"{self.column} = {self.value}"

    def matches(self, r: Record) -> bool:
        if self.op == "any":
            row = _squash(" ".join(r.fields.values()))
            return any(_squash(w) in row for w in self.value)
        v = r.fields.get(self.column, "")
        if self.op == "between":
            d = parse_date(v)
            return d is not None and self.value[0] <= d <= self.value[1]
        if self.op == "months":
            d = parse_date(v)
            return d is not None and d.month in self.value
        if self.op == "contains":
            return _squash(self.value) in _squash(v)
        if self.op == "in":
            return _squash(v) in {_squash(x) for x in self.value}
        return _squash(v) == _squash(str(self.value))


@dataclass
class Query:
    filters: list[Filter] = field(default_factory=list)
    group_by: str | None = None
    group_month: bool = False
    aggregate: str = "list"  # list | count | group
    limit: int | None = None

    def describe(self) -> str:
        parts = ["조건: " + (" · ".join(f.describe() for f in self.filters) or "없음 (전체)")]
        if self.group_by:
            parts.append(f"묶음: {self.group_by} 월별 건수" if self.group_month else f"묶음: {self.group_by}별 건수, 많은 순")
        elif self.aggregate == "count":
            parts.append("집계: 건수")
        if self.limit:
            parts.append(f"최근 {self.limit}건")
        return "; ".join(parts)


def _column_for(word: str, table: Table) -> str | None:
    cols = table.columns
    for key, subs in COLUMN_WORDS.items():
        if word.endswith(key) or word == key:
            for sub in subs:
                hit = next((c for c in cols if sub in c and table.kinds.get(c) in ("category", "text")), None)
                if hit:
                    return hit
    if word in ("월", "달"):
        return table.date_column()
    return next((c for c in cols if word and word in c), None)


def _station_names(values: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for v in values:
        for part in re.split(r"[~∼\-–,·/]| 방면", v):
            part = part.strip()
            if part.endswith("역") and len(part) >= 2:
                names.add(part)
    return names


def parse_question(question: str, table: Table, today: date | None = None) -> Query:
    q = Query()
    text = question
    as_of = today or table.as_of() or date.today()
    dcol = table.date_column()
    # time
    if dcol:
        year = None
        if m := _YEAR.search(text):
            year = int(m.group(1))
        elif re.search(r"작년|지난\s*해|전년", text):
            year = as_of.year - 1
        elif re.search(r"올해|금년|이번\s*해", text):
            year = as_of.year
        month = None
        if (m := _MONTH.search(text)) and 1 <= int(m.group(2)) <= 12:
            month = int(m.group(2))
            year = int(m.group(1)) if m.group(1) else (year or as_of.year)
        season = next((m for name, m in SEASONS.items() if name in text), None)
        if season:
            q.filters.append(Filter(dcol, "months", season))
        if year and month:
            end = date(year + (month == 12), month % 12 + 1, 1)
            q.filters.append(Filter(dcol, "between", (date(year, month, 1), date.fromordinal(end.toordinal() - 1))))
        elif year:
            half = "상반기" in text, "하반기" in text
            a, b = (date(year, 1, 1), date(year, 12, 31))
            if half[0]:
                b = date(year, 6, 30)
            elif half[1]:
                a = date(year, 7, 1)
            q.filters.append(Filter(dcol, "between", (a, b)))
    # grouping and aggregation (before value filters, so "역별" is not read as a station)
    if m := _GROUP.search(text):
        word = re.sub(r"(은|는|이|가|을|를|에서|에|의|로)$", "", m.group("w") or m.group("w2") or m.group("w3") or "")
        col = _column_for(word, table)
        if col:
            q.group_by, q.group_month = col, table.kinds.get(col) == "date"
            q.aggregate = "group"
    if q.aggregate == "list" and _COUNT.search(text):
        q.aggregate = "count"
    if m := _LATEST.search(text):
        q.limit = int(m.group(1))
    # equipment named in everyday words ("스크린도어"): the register's word must occur in the row
    low = _squash(question)
    for key, words in SYNONYMS.items():
        if key in low:
            q.filters.append(Filter("*", "any", (key, *words)))
    # the question's words, with the register's words for everyday equipment names
    said = low + "".join(_squash(w) for key, words in SYNONYMS.items() if key in low for w in words)
    # values of short columns (호선, 사고유형, 역) named in the question
    for col in table.columns:
        if not table.short(col) or col == q.group_by:
            continue
        values = sorted({r.fields.get(col, "") for r in table.rows} - {""}, key=len, reverse=True)
        if set(values) >= {r.record_id for r in table.rows}:
            continue  # the record-id column
        named = [v for v in values if _squash(v) in low]
        if named:
            q.filters.append(Filter(col, "=" if table.kinds.get(col) == "category" else "contains", named[0]))
            continue
        # words of values ("끼임" of "출입문 끼임"): the values sharing most of the question's words
        scored: dict[str, set[str]] = {}
        for v in values:
            words = {w for w in re.findall(r"[가-힣A-Za-z0-9]{2,}", v)
                     if _squash(w) in said and not w.isascii() and not _column_for(w, table)}
            if words:
                scored[v] = words
        if scored:
            best = max(len(w) for w in scored.values())
            top = [v for v, w in scored.items() if len(w) == best]
            common = set.intersection(*(scored[v] for v in top))
            if len(top) == 1:
                q.filters.append(Filter(col, "=" if table.kinds.get(col) == "category" else "contains", top[0]))
            elif common:
                q.filters.append(Filter(col, "contains", max(common, key=len)))
            else:
                q.filters.append(Filter(col, "in", tuple(sorted(top))))
    # stations inside place columns ("가온역~새솔역")
    for col in table.columns:
        if "역" not in col or col == q.group_by or any(f.column == col for f in q.filters):
            continue
        for st in sorted(_station_names(r.fields.get(col, "") for r in table.rows), key=len, reverse=True):
            if _squash(st) in low:
                q.filters.append(Filter(col, "contains", st))
                break
    return q


@dataclass
class Answer:
    query: Query
    table: Table
    matched: list[Record]
    groups: list[tuple[str, int, list[str]]] = field(default_factory=list)  # (value, count, record ids)

    def text(self) -> str:
        lines = [f"[{self.table.title}] {self.query.describe()}"]
        if self.query.aggregate == "group":
            if not self.groups:
                lines.append("해당하는 기록이 없습니다.")
            for value, n, ids in self.groups[:10]:
                lines.append(f"- {value}: {n}건 ({', '.join(ids[:8])}{' …' if len(ids) > 8 else ''})")
            return "\n".join(lines)
        shown = min(len(self.matched), self.query.limit) if self.query.limit else None
        lines.append(f"해당 기록 {len(self.matched)}건" + (f" 중 최근 {shown}건" if shown else "")
                     + (":" if self.matched else "."))
        if self.query.aggregate == "list" or self.query.limit:
            for r in self.matched[: self.query.limit or 10]:
                summary = " · ".join(r.fields.get(c, "") for c in self.table.columns[1:5] if r.fields.get(c))
                lines.append(f"- {r.record_id}: {summary}")
        elif self.matched:
            lines.append("기록 번호: " + ", ".join(r.record_id for r in self.matched[:30])
                         + (" …" if len(self.matched) > 30 else ""))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.title, "document_id": self.table.document_id, "query": self.query.describe(),
            "filters": [{"column": f.column, "op": f.op,
                         "value": [d.isoformat() for d in f.value] if f.op == "between" else f.value}
                        for f in self.query.filters],
            "group_by": self.query.group_by, "aggregate": self.query.aggregate, "count": len(self.matched),
            "groups": [{"value": v, "count": n, "record_ids": ids} for v, n, ids in self.groups],
            "records": [{"record_id": r.record_id, "citation": r.label, "chunk_id": r.chunk_id, "fields": r.fields}
                        for r in self.matched[: self.query.limit or 50]],
        }


def run(query: Query, table: Table) -> Answer:
    matched = [r for r in table.rows if all(f.matches(r) for f in query.filters)]
    dcol = table.date_column()
    if dcol:
        matched.sort(key=lambda r: parse_date(r.fields.get(dcol, "")) or date.min, reverse=True)
    ans = Answer(query, table, matched)
    if query.group_by:
        counts: Counter[str] = Counter()
        ids: dict[str, list[str]] = {}
        for r in matched:
            raw = r.fields.get(query.group_by, "")
            if query.group_month:
                d = parse_date(raw)
                raw = f"{d.year}-{d.month:02d}" if d else ""
            if not raw:
                continue
            counts[raw] += 1
            ids.setdefault(raw, []).append(r.record_id)
        order = sorted(counts.items(), key=(lambda x: x[0]) if query.group_month else (lambda x: (-x[1], x[0])))
        ans.groups = [(v, n, ids[v]) for v, n in order]
    return ans


def answer(question: str, tables: list[Table], today: date | None = None) -> Answer | None:
    """The answer from the register the question names or fits best (most filters); None without
    tables."""
    low = _squash(question)

    def named(t: Table) -> int:  # words of the register's title in the question ("사고대장", "철도사고 기록")
        return sum(1 for w in re.findall(r"[가-힣]{2,}", t.title) if w in low)

    best: Answer | None = None
    best_score: tuple = ()
    for t in tables:
        if not t.rows:
            continue
        a = run(parse_question(question, t, today), t)
        score = (named(t), len(a.query.filters), a.query.aggregate != "list", bool(a.matched))
        if best is None or score > best_score:
            best, best_score = a, score
    return best


def load_tables(store: Any, principal: Any = None, collection: str | None = None) -> list[Table]:
    """The registers ``principal`` may see (all, for the local operator), PII policy applied.
    Access is judged per document as everywhere (level, department, collection, embargo); the
    scope ("search" or "ask") is the caller's to require — reading a register's rows to answer a
    question does not need the document-browsing scope."""
    from dasan.security.guard import can_see_document, redact_chunks
    from dasan.types import Principal

    who = principal or Principal.operator()
    out = []
    generation = store.generation()
    for doc in store.list_documents(collection):
        if doc.kind != "records" or not can_see_document(store, who, doc):
            continue  # access is judged on every call; only the typed rows are reused
        out.append(_cached_table(store, generation, doc,
                                 lambda d=doc: table_of(d.id, d.title or d.source_path,
                                                        redact_chunks(store, store.chunks_of(d.id)))))
    return out


# Typed registers per store, keyed by (document id, store generation): every committed write
# (a document, a PII policy) moves the generation on, so a cached table is never stale; the
# rows are read and typed once instead of on every question.
_TABLES: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[str, int], Table]] = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()
_TABLES_PER_STORE = 16


def _cached_table(store: Any, generation: int, doc: Any, build: Callable[[], Table]) -> Table:
    key = (doc.id, generation)
    with _TABLES_LOCK:
        tables = _TABLES.setdefault(store, OrderedDict())
        if key in tables:
            tables.move_to_end(key)
            return tables[key]
    table = build()
    with _TABLES_LOCK:
        tables[key] = table
        while len(tables) > _TABLES_PER_STORE:
            tables.popitem(last=False)
    return table


# -- similar incidents ---------------------------------------------------------------------------
@dataclass
class Similar:
    record: Record
    score: float
    reasons: list[str]  # which structured fields matched ("호선 = 2호선", "같은 계절")


_BM25_CACHE: dict[tuple[str, int], Any] = {}


def _row_index(table: Table) -> Any:
    from dasan.index.lexical import Bm25Matrix
    from dasan.korean.tokenize import tokenize_many

    key = (table.document_id, len(table.rows))
    if key not in _BM25_CACHE:
        if len(_BM25_CACHE) > 16:
            _BM25_CACHE.clear()
        _BM25_CACHE[key] = Bm25Matrix(tokenize_many([" ".join(r.fields.values()) for r in table.rows]))
    return _BM25_CACHE[key]


def _field_weight(column: str) -> float:
    """How much a matching structured field makes two incidents alike: the kind of incident most,
    the place next, the line or station least."""
    if any(w in column for w in ("유형", "종류")):
        return 1.0
    if any(w in column for w in ("장소", "위치", "설비")):
        return 0.3
    return 0.2


def similar(description: str, table: Table, k: int = 5, today: date | None = None) -> list[Similar]:
    """Past records most like what is happening now: words of the description against each row's
    text (BM25, everyday equipment names expanded), plus the structured fields the description
    names (사고유형 +100 % of the best text score, 장소 +30 %, 호선·역 +20 %) and the season."""
    from dasan.korean.tokenize import tokenize_query

    if not table.rows:
        return []
    low = _squash(description)
    extra = [w for key, words in SYNONYMS.items() if key in low for w in words]
    scores = _row_index(table).scores(tokenize_query(description + " " + " ".join(extra)))
    top = float(scores.max()) if len(scores) else 0.0
    if top <= 0:
        return []
    q = parse_question(description, table, today)
    fields = [f for f in q.filters if f.column != "*" and f.op in ("=", "contains", "in")]
    dcol = table.date_column()
    month = (today or now_date()).month
    season = next((ms for ms in SEASONS.values() if month in ms), ())
    out = []
    for i, r in enumerate(table.rows):
        s = float(scores[i])
        reasons = []
        for f in fields:
            if f.matches(r) and f.op != "in":
                # a value named whole counts fully; one word of it, or one of several values, less
                certainty = {"=": 1.0, "contains": 0.6}[f.op]  # several candidate values: no evidence
                s += _field_weight(f.column) * certainty * top
                reasons.append(f.describe())
        d = parse_date(r.fields.get(dcol, "")) if dcol else None
        if d is not None and d.month in season and s > 0:
            s += 0.1 * top
            reasons.append("같은 계절")
        if s > 0:
            out.append(Similar(r, s, reasons))
    out.sort(key=lambda x: -x.score)
    return out[:k]


def now_date() -> date:
    return date.today()


def similar_text(items: list[Similar], table: Table) -> str:
    if not items:
        return "비슷한 과거 기록을 찾지 못했습니다."
    cols = table.columns
    pick = [c for c in cols if any(w in c for w in ("원인", "조치", "대책", "피해"))]
    lines = [f"[{table.title}] 비슷한 과거 기록 {len(items)}건"]
    for it in items:
        head = " · ".join(it.record.fields.get(c, "") for c in cols[1:6] if it.record.fields.get(c))
        lines.append(f"- {it.record.record_id}: {head}" + (f"  (일치: {', '.join(it.reasons)})" if it.reasons else ""))
        for c in pick:
            if it.record.fields.get(c):
                lines.append(f"    {c}: {it.record.fields[c]}")
    return "\n".join(lines)
