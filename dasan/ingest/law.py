"""Statute parser: 편/장/절/관 > 조 > 항 > 호 > 목, 부칙, amendment notes.

Works on any :class:`~dasan.types.Document`: Markdown with front matter and ``#`` headings
(law.go.kr exports) as well as plain text from HWP/PDF where articles are lines such as
``제40조(열차운행의 일시 중지) ① …``.

Rules (documented because tests and citations depend on them):

- An article is *deleted* when every piece of its body is ``삭제`` (after removing notes),
  e.g. ``제8조 삭제 <2014.3.18>``; deleted articles are listed in ``Statute.deleted`` and not
  in ``Statute.articles``. A deleted 항/호/목 inside a live article is dropped too.
- Amendment notes (``<개정 2020.4.7>``, ``<신설 …>``, bare ``<2014.3.18>``, ``[본조신설 …]``,
  ``[전문개정 …]``, ``[제목개정 …]``, ``[… 이동 <…>]``, ``[시행일 …]``) are removed from the
  text and kept in ``notes``.
- Everything after a ``부칙`` heading/line is supplementary provisions; their articles live in
  ``Statute.addenda`` and never in ``Statute.articles``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from dasan.errors import ParseError
from dasan.ingest.structure import Line, doc_lines
from dasan.types import Document

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳㉑㉒㉓㉔㉕㉖㉗㉘㉙㉚㉛㉜㉝㉞㉟㊱㊲㊳㊴㊵㊶㊷㊸㊹㊺㊻㊼㊽㊾㊿"
MOK = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허"

ARTICLE_RE = re.compile(
    r"^제\s?(\d{1,4})\s?조(?:\s?의\s?(\d{1,3}))?(?=[\s(（]|$)"
    r"(?:\s*[(（]((?:[^()（）]|[(（][^()（）]{0,80}[)）]){1,120})[)）])?(\s*)(.*)$"
)
DIVISION_RE = re.compile(r"^제\s?(\d{1,3})\s?(편|장|절|관)(?:\s?의\s?(\d{1,3}))?(?:\s+(.*))?$")
ADDENDUM_RE = re.compile(r"^부\s?칙(?=$|\s|<|[(（])(.*)$")
PARA_RE = re.compile(rf"^([{CIRCLED}])\s*(.*)$")
INLINE_PARA_RE = re.compile(rf"(?:(?<=다\.)|(?<=다\.\])|(?<=>))\s+(?=[{CIRCLED[1:]}]\s?\S)")
ITEM_RE = re.compile(r"^(\d{1,3})(?:\s?의\s?(\d{1,3}))?\.(?!\d)\s*(.*)$")
MOK_RE = re.compile(rf"^([{MOK}])\.\s*(.*)$")
_DATE = r"\d{4}\s?[.ㆍ·]\s?\d{1,2}\s?[.ㆍ·]\s?\d{1,2}\.?"
NOTE_RE = re.compile(
    r"<\s*((?:개정|신설|삭제|타법개정|전문개정|제목개정|본조신설)\s*[^<>]{0,400}?"
    rf"|{_DATE}(?:\s*,\s*{_DATE}){{0,30}})\s*>"
)
BRACKET_NOTE_RE = re.compile(
    r"\[\s*((?:본조신설|전문개정|제목개정|본조제목개정|본조개정|시행일|종전)[^\[\]]{0,120}"
    r"|[^\[\]<>]{0,80}이동\s*<[^<>]{0,40}>\s*"
    r"|[^\[\]]{0,200}헌법재판소[^\[\]]{0,200})\]"
)
_LAW_HEADER_RE = re.compile(r"\[\s*시행\s*([^\]]{6,20})\]\s*(?:\[\s*([^\]]+)\])?")
_MINISTRY_LINE_RE = re.compile(r"^([가-힣]{2,15}(?:부|처|청|위원회))\s?[(（][^()（）]{1,40}[)）]")
_KIND_BY_GUBUN = {"법률": "법률", "대통령령": "시행령", "총리령": "시행규칙"}


def strip_notes(text: str) -> tuple[str, list[str]]:
    """Remove amendment notes from ``text``; return the clean text and the notes."""
    notes: list[str] = []

    def keep(m: re.Match[str]) -> str:
        notes.append(" ".join(m.group(1).split()))
        return " "

    if "<" in text:
        text = NOTE_RE.sub(keep, text)
    if "[" in text:
        text = BRACKET_NOTE_RE.sub(keep, text)
    if notes:
        text = " ".join(text.split())
    return text.strip(), notes


def _is_deleted(text: str) -> bool:
    return text.strip().rstrip(".") == "삭제"


@dataclass
class Item:
    """호 (``1.``, ``5의2.``) or 목 (``가.``); 목 are children of their 호."""

    marker: str
    label: str  # 제1호, 제5호의2, 가목
    text: str
    children: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.marker} {self.text}".rstrip()]
        for c in self.children:
            out.extend(c.lines())
        return out


@dataclass
class Paragraph:
    """항 (``①`` → ``제1항``); an article without 항 has one paragraph with ``label=None``."""

    marker: str
    label: str | None
    text: str
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def head(self) -> str:
        return f"{self.marker} {self.text}".strip() if self.marker else self.text

    def lines(self) -> list[str]:
        out = [self.head()] if self.head() else []
        for it in self.items:
            out.extend(it.lines())
        return out


@dataclass
class Article:
    number: str  # 제60조의6
    title: str | None
    num: int
    branch: int | None = None
    path: list[str] = field(default_factory=list)  # 편/장/절/관 headings, outermost first
    paragraphs: list[Paragraph] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    page: int | None = None
    deleted: bool = False

    @property
    def header(self) -> str:
        return f"{self.number}({self.title})" if self.title else self.number

    @property
    def body(self) -> str:
        return "\n".join(line for p in self.paragraphs for line in p.lines())

    @property
    def text(self) -> str:
        body = self.body
        return f"{self.header}\n{body}" if body else self.header


@dataclass
class Addendum:
    """One 부칙 (e.g. ``부칙 <제34838호,2024.8.13>``) with its own articles."""

    heading: str
    articles: list[Article] = field(default_factory=list)
    body: list[Paragraph] = field(default_factory=list)  # text outside any article
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = ["\n".join(line for p in self.body for line in p.lines())]
        parts += [a.text for a in self.articles]
        return "\n".join(p for p in parts if p)


@dataclass
class Statute:
    title: str
    kind: str  # 법률 | 시행령 | 시행규칙 | 기타
    ministries: list[str] = field(default_factory=list)  # 소관부처
    promulgated: str | None = None  # 공포일자, ISO date
    effective: str | None = None  # 시행일자, ISO date
    status: str | None = None  # 상태 (시행, 폐지 …)
    articles: list[Article] = field(default_factory=list)
    addenda: list[Addendum] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # numbers of deleted articles
    preamble: list[str] = field(default_factory=list)  # lines before the first article
    metadata: dict[str, Any] = field(default_factory=dict)

    def article(self, number: str) -> Article | None:
        number = number.replace(" ", "")
        return next((a for a in self.articles if a.number == number), None)

    def cite(self, article: str | None = None, paragraph: str | None = None) -> str:
        return " ".join(p for p in (self.title, article, paragraph) if p)

    def in_force(self, today: dt.date | None = None) -> bool:
        """Whether this version is in force: 시행일자 reached and not repealed."""
        if self.status and any(w in self.status for w in ("폐지", "실효")):
            return False
        if not self.effective:
            return True
        return dt.date.fromisoformat(self.effective) <= (today or dt.date.today())


def _iso(value: Any) -> str | None:
    """Normalise a date from front matter or text (``2026-03-24``, ``2026. 3. 24.``, ``20260324``)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value).strip()
    m = re.search(r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})", s) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", s
    )
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def statute_kind(title: str, gubun: str | None = None) -> str:
    """법률 / 시행령 / 시행규칙 from 법령구분 (대통령령 → 시행령, 총리령·…부령 → 시행규칙) or the title."""
    g = (gubun or "").strip()
    if g in _KIND_BY_GUBUN:
        return _KIND_BY_GUBUN[g]
    if g.endswith("부령"):
        return "시행규칙"
    t = title.replace(" ", "")
    if t.endswith("시행령"):
        return "시행령"
    if t.endswith("시행규칙"):
        return "시행규칙"
    if t.endswith(("법", "법률")):
        return "법률"
    return g or "기타"


class _Parser:
    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.deleted: list[str] = []
        self.addenda: list[Addendum] = []
        self.preamble: list[str] = []
        self.path: dict[str, str] = {}
        self.cur: Article | None = None
        self.addendum: Addendum | None = None
        self.target_paras: list[Paragraph] | None = None  # where content lines go

    # -- structure -------------------------------------------------------------------
    def finish_article(self) -> None:
        a = self.cur
        if a is None:
            return
        a.paragraphs = [p for p in a.paragraphs if p.text or p.items]
        if a.deleted and not a.paragraphs:
            if self.addendum is None:
                self.deleted.append(a.number)
        else:
            a.deleted = False
            (self.addendum.articles if self.addendum else self.articles).append(a)
        self.cur = None
        self.target_paras = self.addendum.body if self.addendum else None

    def last_num(self) -> tuple[int, int]:
        arts = self.addendum.articles if self.addendum else self.articles
        last = self.cur or (arts[-1] if arts else None)
        return (last.num, last.branch or 0) if last else (-1, 0)

    def try_article(self, line: Line) -> bool:
        m = ARTICLE_RE.match(line.text)
        if not m:
            return False
        num, branch, title, gap, rest = int(m[1]), m[2], m[3], m[4], m[5]
        if line.heading is None:
            # A plain line must look like an article opening, not a reference ("제2조제1항에 …")
            # and, in the body, must not go backwards.
            opens = (title is not None and (gap or not rest)) or rest == "" or rest.startswith("삭제")
            if not opens or (num, int(branch or 0)) <= self.last_num():
                return False
        self.finish_article()
        number = f"제{num}조" + (f"의{int(branch)}" if branch else "")
        t = None
        notes: list[str] = []
        if title:
            t, notes = strip_notes(title)
        self.cur = Article(
            number=number, title=t or None, num=num, branch=int(branch) if branch else None,
            path=[] if self.addendum else list(self.path.values()), notes=notes, page=line.page,
        )
        self.target_paras = self.cur.paragraphs
        if rest.strip():
            self.content(rest.strip())
        return True

    def try_division(self, line: Line) -> bool:
        if self.addendum is not None:
            return False
        m = DIVISION_RE.match(line.text)
        if not m:
            return False
        text, _notes = strip_notes(line.text)
        if line.heading is None and (len(text) > 60 or text.endswith(("다.", "다", "한다."))):
            return False
        unit = m[2]
        order = "편장절관"
        for u in order[order.index(unit):]:
            self.path.pop(u, None)
        self.finish_article()
        self.path[unit] = text
        return True

    def try_addendum(self, line: Line) -> bool:
        m = ADDENDUM_RE.match(line.text)
        if not m:
            return False
        rest = m[1].strip()
        if line.heading is None and rest and not rest.startswith(("<", "(", "（")):
            return False
        self.finish_article()
        if self.addendum is not None and not (self.addendum.body or self.addendum.articles):
            self.addenda.pop()
        self.addendum = Addendum(heading=" ".join(line.text.split()))
        self.addenda.append(self.addendum)
        self.target_paras = self.addendum.body
        return True

    # -- content ---------------------------------------------------------------------
    def content(self, text: str) -> None:
        if self.target_paras is None:
            self.preamble.append(text)
            return
        if len(text) > 2 and INLINE_PARA_RE.search(text, 1):
            # PDF/HWP text sometimes runs several 항 into one line: "… 한다. ② …".
            parts = INLINE_PARA_RE.split(text)
            for part in parts:
                if part.strip():
                    self.content_line(part.strip())
            return
        self.content_line(text)

    def content_line(self, text: str) -> None:
        paras = self.target_paras
        assert paras is not None
        clean, notes = strip_notes(text)
        if self.cur is not None:
            self.cur.notes.extend(notes)
        if m := PARA_RE.match(clean):
            body = m[2].strip()
            n = CIRCLED.index(m[1]) + 1
            p = Paragraph(marker=m[1], label=f"제{n}항", text=body, notes=notes)
            if _is_deleted(body):
                self._mark_deleted()
                p.text = ""
                p.label = None  # dropped by finish_article (no text, no items)
            paras.append(p)
            return
        if not paras:
            paras.append(Paragraph(marker="", label=None, text=""))
        para = paras[-1]
        if m := ITEM_RE.match(clean):
            label = f"제{int(m[1])}호" + (f"의{int(m[2])}" if m[2] else "")
            marker = f"{int(m[1])}" + (f"의{int(m[2])}" if m[2] else "") + "."
            if _is_deleted(m[3]):
                self._mark_deleted()
                return
            para.items.append(Item(marker=marker, label=label, text=m[3].strip(), notes=notes))
            return
        if (m := MOK_RE.match(clean)) and (para.items or m[1] == "가"):
            if _is_deleted(m[2]):
                self._mark_deleted()
                return
            it = Item(marker=f"{m[1]}.", label=f"{m[1]}목", text=m[2].strip(), notes=notes)
            (para.items[-1].children if para.items else para.items).append(it)
            return
        if _is_deleted(clean) and not para.text and not para.items:
            self._mark_deleted()
            return
        # Continuation: goes to the deepest open element.
        if para.items:
            last = para.items[-1]
            if last.children:
                last = last.children[-1]
            last.text = f"{last.text}\n{clean}" if last.text else clean
        else:
            para.text = f"{para.text}\n{clean}" if para.text else clean
            para.notes.extend(notes)

    def _mark_deleted(self) -> None:
        if self.cur is not None:
            self.cur.deleted = True

    def feed(self, line: Line) -> None:
        if line.heading is not None:
            if self.try_addendum(line) or self.try_article(line) or self.try_division(line):
                return
            if self.cur is None and self.addendum is None and not self.articles:
                self.preamble.append(line.text)
                return
            self.content(line.text)
            return
        t = line.text
        if t.startswith("제") and (self.try_article(line) or self.try_division(line)):
            return
        if t.startswith("부") and self.try_addendum(line):
            return
        self.content(t)


def _title_from_preamble(lines: list[str]) -> str | None:
    for s in lines[:5]:
        head = re.sub(r"\[[^\]]*\]", "", s).strip()
        if head and len(head) <= 80 and re.search(r"(법|법률|령|규칙|규정|조례)$", head):
            return head
    return None


def parse_statute(doc: Document) -> Statute:
    """Parse a statute. Raises :class:`ParseError` if no article (``제N조``) is found."""
    md = dict(doc.metadata or {})
    p = _Parser()
    title: str | None = str(md.get("제목") or "").strip() or None
    for line in doc_lines(doc):
        if (
            line.heading == 1 and title is None and not p.articles and p.cur is None
            and not (ARTICLE_RE.match(line.text) or DIVISION_RE.match(line.text)
                     or ADDENDUM_RE.match(line.text))
        ):
            title = strip_notes(line.text)[0]
            continue
        if line.heading is not None and title and line.text.replace(" ", "") == title.replace(" ", ""):
            continue
        p.feed(line)
    p.finish_article()
    if p.addendum is not None and not (p.addendum.body or p.addendum.articles):
        p.addenda.pop()
    if not p.articles and not p.deleted:
        raise ParseError(
            "법령 조문(제N조)을 찾지 못했습니다. 조문이 '제1조(목적)'처럼 줄 첫머리에 오는 "
            "법령 본문인지 확인하세요."
        )
    title = title or _title_from_preamble(p.preamble) or (doc.title or "").strip() or None
    if not title:
        title = PurePath(doc.source).stem if doc.source else "법령"
    effective = _iso(md.get("시행일자"))
    promulgated = _iso(md.get("공포일자"))
    gubun = str(md.get("법령구분") or "").strip() or None
    for s in p.preamble[:5]:  # law.go.kr text header: "[시행 2026. 3. 24.] [대통령령 제36220호, …]"
        if hm := _LAW_HEADER_RE.search(s):
            effective = effective or _iso(hm[1])
            if hm[2]:
                gubun = gubun or hm[2].split()[0]
                promulgated = promulgated or _iso(hm[2])
    ministries = md.get("소관부처") or []
    if isinstance(ministries, str):
        ministries = [ministries]
    if not ministries:  # law.go.kr text: "국토교통부(철도안전정책과), 044-201-4634"
        ministries = [m[1] for s in p.preamble[:6] if (m := _MINISTRY_LINE_RE.match(s))][:3]
    status = md.get("상태")
    return Statute(
        title=title,
        kind=statute_kind(title, gubun),
        ministries=[str(m) for m in ministries if m],
        promulgated=promulgated,
        effective=effective,
        status=str(status) if status else None,
        articles=p.articles,
        addenda=p.addenda,
        deleted=p.deleted,
        preamble=p.preamble,
        metadata=md,
    )
