"""Times a question gives for *when something was published*, as 보도일 bounds.

"3월에 발표한 …", "올해 초 나온 보도자료", "지난달 교육부가 냈잖아요" ask about releases of a
period; :func:`release_window` turns such words into ISO date bounds for
:class:`dasan.rag.retrieve.SearchFilter` (applied inside the search, before the top-k cut).

Only times in a clause that speaks of publishing (발표, 공고, 보도자료, 냈, 나온, 밝힌 …) bound
the search: in "작년엔 16명이 수료했고" or "11월 19일에 시행" the time is the event's, not the
release's. Several times in such clauses give the span from the earliest to the latest
("4월에 발표된 명단이랑 7월 출범식 때 나온 명단": April to July); "그 뒤/이후" after a dated
clause opens the end ("4월 중순에 냈잖아요. 그 뒤에 열린 회의는").

Relative words (올해, 작년, 지난달, 이번 주, 어제, 상반기 …) are resolved against a reference
date given by the caller: the answerer uses the newest 보도일 the asker may see (the store's
"as of" date: a collection that stops in July answers "지난달" with June), or a date injected
for tests. A month without a year is the latest such month not after the reference.
Vague words with no agreed span (최근, 요즘) are not read as bounds.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

#: A clause speaks of publishing: the time in it is a 보도일.
_PUBLISH = re.compile(
    r"발표|공고|보도|배포|발간|브리핑|공개(?:한|된|했|됐)|내놓|내놨|(?<![보떠지드])냈|(?<![보떠지드])낸(?=\s|$)|"
    r"나온|나왔|알렸|알린|밝혔|밝힌|펴낸|펴냈"
)
_CLAUSE_SPLIT = re.compile(r"[.?!,;]\s*|\n")
_LATER = re.compile(r"그\s*(?:뒤|후|다음)|이후(?:에|로)?|나중에")
_EARLIER = re.compile(r"그\s*전에|그보다\s*앞서|이전에")

_PART = r"(?:\s*(초순|초|상순|중순|하순|말|끝|중))?"
_ABS_DAY = re.compile(r"(?:(\d{4})\s*년\s*)?(?<![\d.])(\d{1,2})\s*월\s*(\d{1,2})\s*일")
_ABS_MONTH = re.compile(r"(?:(\d{4})\s*년\s*)?(?<![\d.])(\d{1,2})\s*월(?!\s*\d{1,2}\s*일)" + _PART)
_ABS_YEAR = re.compile(r"(?<!\d)(\d{4})\s*년(?!\s*도)(?!\s*\d{1,2}\s*월)" + _PART)
_QUARTER = re.compile(r"(올해|금년|작년|지난해|전년)?\s*([1-4])\s*분기")
_HALF = re.compile(r"(올해|금년|작년|지난해|전년)?\s*(상반기|하반기)")
_REL_MONTH = re.compile(r"(지난\s*달|저번\s*달|전달|이번\s*달|이달)" + _PART)
_REL_WEEK = re.compile(r"(지난\s*주|저번\s*주|이번\s*주|금주)")
_REL_DAY = re.compile(r"(그저께|그제|어제|오늘)")
_YEAR_PART = re.compile(r"(올해|금년|작년|지난해|전년)\s*(초|초반|말|연말)|(연초|연말|새해\s*초)")
_REL_YEAR = re.compile(r"(올해|금년|작년|지난해)(?!\s*(?:초|초반|말|연말|상반기|하반기|[1-4]\s*분기))")


@dataclass(frozen=True)
class TimeWindow:
    """보도일 bounds (ISO dates, inclusive; None = open) and the words they came from."""

    date_from: str | None
    date_to: str | None
    phrases: tuple[str, ...]
    reference: str  # the date relative words were resolved against

    def describe(self) -> str:
        """``2026. 3. 1.~2026. 3. 31.`` (Korean release-date style)."""
        def ko(iso: str | None) -> str:
            if not iso:
                return ""
            d = date.fromisoformat(iso)
            return f"{d.year}. {d.month}. {d.day}."
        return f"{ko(self.date_from)}~{ko(self.date_to)}"


def _month_span(y: int, m: int, part: str | None = None) -> tuple[date, date]:
    last = calendar.monthrange(y, m)[1]
    # People's 초/중순/말 are fuzzy: the spans overlap by a few days.
    if part in ("초", "초순", "상순"):
        return date(y, m, 1), date(y, m, min(12, last))
    if part in ("중순", "중"):
        return date(y, m, 8), date(y, m, min(22, last))
    if part in ("말", "끝", "하순"):
        return date(y, m, 18), date(y, m, last)
    return date(y, m, 1), date(y, m, last)


def _year_of_month(m: int, ref: date) -> int:
    """The year of the latest month ``m`` not after ``ref``."""
    return ref.year if m <= ref.month else ref.year - 1


def _rel_year(word: str | None, ref: date) -> int:
    return ref.year - 1 if word and word.replace(" ", "") in ("작년", "지난해", "전년") else ref.year


_OPEN_END = re.compile(r"\s*(?:에\s*)?(?:이후|부터|뒤|후(?![보원])|지나서)")
_OPEN_START = re.compile(r"\s*(?:이전|전(?![국체문])|까지)")
#: The word after a time phrase (its particle skipped) and whether it is a predicate of its own.
_NEXT_WORD = re.compile(r"\s*(?:에는|에도|에|엔|쯤|경|께)?\s*(\S+)")
_PREDICATE = re.compile(r"(?:된|한|되는|하는|했던|됐던|했고|됐고|하고|되고|해서|돼서|하여|되어|할|될|던)$")
_FAR_PAST, _FAR_FUTURE = date(1900, 1, 1), date(2999, 12, 31)


def _spans(clause: str, ref: date) -> list[tuple[date, date, str]]:
    """(from, to, words) per time phrase; "3월 이후" opens the end, "3월 이전" the start."""
    out: list[tuple[date, date, str]] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], a: date, b: date) -> None:
        if any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        after = clause[m.end():]
        nxt = _NEXT_WORD.match(after)
        if nxt and not _PUBLISH.search(nxt[1]) and _PREDICATE.search(nxt[1]):
            return  # "2023년에 지정된": the time of another event, not of the release
        if _OPEN_END.match(after):
            b = _FAR_FUTURE
        elif _OPEN_START.match(after):
            a = _FAR_PAST
        out.append((a, b, m.group(0).strip()))

    for m in _ABS_DAY.finditer(clause):
        mo, d = int(m[2]), int(m[3])
        y = int(m[1]) if m[1] else _year_of_month(mo, ref)
        try:
            day = date(y, mo, d)
        except ValueError:
            continue
        add(m, day - timedelta(days=1), day + timedelta(days=1))  # 배포 the day before, 보도 the day
    for m in _ABS_MONTH.finditer(clause):
        mo = int(m[2])
        if not 1 <= mo <= 12:
            continue
        y = int(m[1]) if m[1] else _year_of_month(mo, ref)
        add(m, *_month_span(y, mo, m[3]))
    for m in _ABS_YEAR.finditer(clause):
        y = int(m[1])
        if not 1990 <= y <= 2100:
            continue
        part = m[2]
        if part in ("초", "초순", "상순"):
            add(m, date(y, 1, 1), date(y, 2, calendar.monthrange(y, 2)[1]))
        elif part in ("말", "끝", "하순"):
            add(m, date(y, 11, 1), date(y, 12, 31))
        else:
            add(m, date(y, 1, 1), date(y, 12, 31))
    for m in _QUARTER.finditer(clause):
        y, q = _rel_year(m[1], ref), int(m[2])
        add(m, date(y, 3 * q - 2, 1), _month_span(y, 3 * q)[1])
    for m in _HALF.finditer(clause):
        y = _rel_year(m[1], ref)
        add(m, *((date(y, 1, 1), date(y, 6, 30)) if m[2] == "상반기" else (date(y, 7, 1), date(y, 12, 31))))
    for m in _REL_MONTH.finditer(clause):
        first = ref.replace(day=1)
        if m[1].replace(" ", "") not in ("이번달", "이달"):
            first = (first - timedelta(days=1)).replace(day=1)
        add(m, *_month_span(first.year, first.month, m[2]))
    for m in _REL_WEEK.finditer(clause):
        monday = ref - timedelta(days=ref.weekday())
        if m[1].replace(" ", "") in ("지난주", "저번주"):
            monday -= timedelta(days=7)
        add(m, monday, monday + timedelta(days=6))
    for m in _REL_DAY.finditer(clause):
        back = {"그저께": 2, "그제": 2, "어제": 1, "오늘": 0}[m[1]]
        add(m, ref - timedelta(days=back), ref - timedelta(days=back))
    for m in _YEAR_PART.finditer(clause):
        if m[3]:
            y, early = ref.year, not m[3].startswith("연말")
        else:
            y, early = _rel_year(m[1], ref), m[2] in ("초", "초반")
        add(m, *((date(y, 1, 1), date(y, 2, calendar.monthrange(y, 2)[1])) if early
                 else (date(y, 11, 1), date(y, 12, 31))))
    for m in _REL_YEAR.finditer(clause):
        y = _rel_year(m[1], ref)
        add(m, date(y, 1, 1), date(y, 12, 31))
    return out


def release_window(question: str, ref: date) -> TimeWindow | None:
    """보도일 bounds for ``question`` (None when it names no publishing time).

    ``ref`` is the date relative words are resolved against (see the module docstring)."""
    spans: list[tuple[date, date, str]] = []
    end_of_dated = -1
    pos = 0
    for clause in _CLAUSE_SPLIT.split(question):
        start = question.find(clause, pos) if clause else pos
        pos = start + len(clause)
        if not clause.strip() or not _PUBLISH.search(clause):
            continue
        found = _spans(clause, ref)
        if found:
            spans.extend(found)
            end_of_dated = max(end_of_dated, pos)
    if not spans:
        return None
    lo = min(a for a, _, _ in spans)
    hi = max(b for _, b, _ in spans)
    rest = question[end_of_dated:]
    date_from = None if lo == _FAR_PAST else lo.isoformat()
    date_to = None if hi == _FAR_FUTURE else hi.isoformat()
    if _LATER.search(rest):
        date_to = None
    if _EARLIER.search(rest):
        date_from = None
    return TimeWindow(date_from, date_to, tuple(p for _, _, p in spans), ref.isoformat())
