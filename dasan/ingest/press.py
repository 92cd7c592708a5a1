"""Parser for Korean government press releases (보도자료).

Layout handled (header and contact tables may arrive as table blocks or as paragraphs):

- header: ``보도자료`` + ministry, ``보도시점``/``보도일시`` (embargo) and ``배포`` dates;
- title and optional subtitles written ``- … -``;
- body bullets ``□`` → ``○``/``ㅇ`` → ``-`` → ``*`` → ``※`` (also ``▣ ◆ ◇ ▶``) as a tree,
  grouped under section headings (``1. 추진 배경``, ``< 주요 내용 >``, heading blocks);
- contacts: ``담당 부서``, ``책임자``/``담당자`` with 직위, name and phone numbers;
- attachments from ``붙임``/``붙 임``/``별첨``/``참고``.

Embargo rules: an explicit time wins (``2026. 6. 23.(화) 11:00 이후`` → 11:00 KST). With a
date but no time, a 조간 release is embargoed until 06:00 and a 석간 release until 12:00 of
the edition date, otherwise until 00:00 of the date. ``즉시 보도`` sets ``immediate`` and
leaves ``embargo`` empty. Times are ISO 8601 with the Asia/Seoul offset (+09:00, no DST).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from dasan.errors import ParseError
from dasan.ingest.press_header import (
    MINISTRIES,
    Header,
    embargo_sentence,
    is_headerish,
    parse_datetime_value,
    parse_time_segment,
    read_header,
    split_channels,
)
from dasan.ingest.structure import clean_line
from dasan.types import Document

KST = dt.timezone(dt.timedelta(hours=9), "KST")

#: Bullet markers and their rank (smaller = outer).
RANKS: dict[str, int] = {
    "▣": 0, "■": 0, "◼": 0,
    "□": 1, "◆": 1, "❏": 1,
    "○": 2, "ㅇ": 2, "◦": 2, "●": 2, "◇": 2, "❍": 2, "•": 2,
    "-": 3, "–": 3, "▶": 3, "▷": 3, "►": 3, "·": 3, "ㆍ": 3,
    "*": 4, "※": 5,
}
_BULLET_RE = re.compile(r"^(?:([▣■◼□◆❏○◦●◇❍•▶▷►※*])\s*|([ㅇ\-–·ㆍ])\s+)(.*)$")
_SECTION_RE = re.compile(
    r"^(?:[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]{1,3}\s*[.)]?|[IVX]{1,4}\s*[.)]|\d{1,2}\s*[.)]|[가-하]\s*[.)])\s*\S.{0,58}$"
    r"|^[<〈《【\[]\s*[^<>〈〉《》【】\[\]]{1,40}\s*[>〉》】\]]$"
)
_SUBTITLE_RE = re.compile(r"^[-–―~]\s*(.+?)\s*[-–―~]$")
_ATTACH_RE = re.compile(
    r"^[\[<【(]?\s*(붙\s*임|별\s*첨|참\s*고)\s*(\d{1,2})?\s*[\]>】)]?\s*(?:[.:：]\s*)?(?=$|\s|\d)(.*)$"
)
_LABEL_RE = re.compile(
    r"(보\s*도\s*시\s*점|보\s*도\s*일\s*시|보\s*도\s*일\s*자|엠\s*바\s*고|배\s*포\s*일\s*시|배\s*포\s*일\s*자|배\s*포\s*일|배\s*포)"
    # a label is followed by ":" / a cell border, or directly by the date or "즉시"
    r"(?:\s*[:：|]|(?=\s*(?:\d|즉시|\(|$)))"
)
_PHONE_RE = re.compile(r"(?<!\d)(0\d{1,2}|1[5-8]\d{2})[-.)\s]?(\d{3,4})-(\d{4})(?!\d)")
_FULL_DATE_RE = re.compile(r"(\d{4})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})\s*[.일]?")
_SHORT_DATE_RE = re.compile(r"(?<![\d.])(\d{1,2})\s*[.월]\s*(\d{1,2})\s*[.일]")
_TIME_RE = re.compile(r"(?:(오전|오후)\s*)?(\d{1,2})\s*(?::\s*(\d{2})|시(?:\s*(\d{1,2})\s*분)?)")
_MINISTRY_RE = re.compile(r"[가-힣ㆍ·]{1,20}(?:부|처|청|위원회|본부|실|원|공사|공단|특별시|광역시|도청|시청|군청|구청)$")
_HEAD_MINISTRY_RE = re.compile(r"^(?:[가-힣ㆍ·]{1,15}\s?){0,2}[가-힣ㆍ·]{1,15}(?:부|처|청|위원회|본부|(?<![지인정회복])원)$")
_POSITIONS = (
    "과장", "팀장", "국장", "실장", "단장", "센터장", "부장", "차장", "반장", "관장", "소장", "본부장",
    "사무관", "주무관", "서기관", "연구관", "연구사", "행정관", "전문관", "전문위원", "기술서기관",
    "공업사무관", "시설사무관", "보건사무관", "행정사무관", "주사", "주사보", "연구원", "선임연구원", "책임연구원",
    "팀원", "대리", "주임", "담당관",
)
_ROLE_WORDS = ("책임자", "담당자", "실무자")
_SPACED_POSITION = re.compile(
    "|".join(r"\s*".join(p) for p in sorted(_POSITIONS, key=len, reverse=True) if len(p) > 1)
)
_IGNORED_TOKEN = re.compile(r"^[<\[(]?(총괄|공동|협조|주관)[>\])]?$")
_VALUE_TOKEN = re.compile(
    r"\s*(?:\d{4}\s*[.\-/년]\s*\d{1,2}\s*[.\-/월]\s*\d{1,2}\s*[.일]?|\d{1,2}\s*[.월]\s*\d{1,2}\s*[.일]"
    r"|\(\s*[월화수목금토일]\s*\)|(?:오전|오후)?\s*\d{1,2}\s*(?::\s*\d{2}|시(?:\s*\d{1,2}\s*분)?)"
    r"|\(\s*[^()]{0,12}(?:\([월화수목금토일]\))?\s*(?:조간|석간)\s*\)|이후|부터|조간|석간|배포|즉시|보도|[~,|]"
    r"|\(\s*(?:인\s*터\s*넷|온\s*라\s*인|지\s*면|방\s*송|통\s*신)[^()]{0,10}\))"
)
_END_MARK = re.compile(r"\s*끝\.?\s*$")
_INQUIRY_RE = re.compile(r"(이\s*)?(보도\s*)?자료와?\s*관련하여.{0,200}?(문의|연락)")


@dataclass
class Contact:
    role: str | None  # 책임자 | 담당자 | None
    department: str | None = None
    position: str | None = None  # 직위
    name: str | None = None
    phones: list[str] = field(default_factory=list)


@dataclass
class Bullet:
    marker: str
    text: str
    rank: int
    children: list[Bullet] = field(default_factory=list)
    section: str | None = None  # section heading the bullet sits under
    page: int | None = None

    def lines(self, depth: int = 0) -> list[str]:
        out = [f"{'  ' * depth}{self.marker} {self.text}".rstrip()]
        for c in self.children:
            out.extend(c.lines(depth + 1))
        return out

    @property
    def full_text(self) -> str:
        return "\n".join(self.lines())


@dataclass
class Attachment:
    label: str  # 붙임 1, 별첨, 참고 2
    title: str
    lines: list[str] = field(default_factory=list)
    page: int | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class PressRelease:
    title: str
    subtitles: list[str] = field(default_factory=list)
    ministry: str | None = None
    embargo: str | None = None  # ISO datetime, +09:00
    embargo_text: str | None = None  # the raw 보도시점 value
    immediate: bool = False  # 즉시 보도
    edition: str | None = None  # 조간 | 석간
    edition_date: str | None = None
    distributed: str | None = None  # 배포일, ISO date
    departments: list[str] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)  # text before the first bullet
    bullets: list[Bullet] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    inquiry: str | None = None  # "이 보도자료와 관련하여 … 문의하시기 바랍니다"
    doc_type: str | None = None  # 보도자료 | 보도참고자료 | 보도설명자료 …
    bureau: str | None = None  # 실·국 of the first contact's department, when the table names one
    division: str | None = None  # 담당 과
    tags: list[str] = field(default_factory=list)  # 【국정과제】
    distributed_at: str | None = None  # 배포 date-time when a clock time is given (ISO, +09:00)
    embargo_times: dict[str, str] = field(default_factory=dict)  # channel (인터넷, 지면 …) -> ISO
    embargo_estimated: bool = False  # an event time ("국무회의 종료 시"): closed to the end of that day
    embargo_hold: bool = False  # 보도시점 stated but unreadable: held (민감) until an operator sets it

    @property
    def release_date(self) -> str | None:
        """보도일: the embargo date, else the edition date, else the distribution date."""
        if self.embargo:
            return self.embargo[:10]
        return self.edition_date or self.distributed

    def header_meta(self) -> dict[str, Any]:
        return {
            "ministry": self.ministry, "embargo": self.embargo, "embargo_text": self.embargo_text,
            "immediate": self.immediate, "edition": self.edition, "edition_date": self.edition_date,
            "distributed": self.distributed, "distributed_at": self.distributed_at,
            "release_date": self.release_date, "embargo_times": dict(self.embargo_times),
            "embargo_estimated": self.embargo_estimated, "embargo_hold": self.embargo_hold,
            "doc_type": self.doc_type, "bureau": self.bureau, "division": self.division,
            "departments": list(self.departments),
            "contacts": [vars(c).copy() for c in self.contacts],
            "attachments": [f"{a.label} {a.title}".strip() for a in self.attachments],
            "subtitles": list(self.subtitles), "tags": list(self.tags),
        }


# --------------------------------------------------------------------------- dates
def _mk_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_embargo(value: str, ref_year: int | None = None) -> dict[str, Any]:
    """Parse a 보도시점 value. Returns ``embargo`` (ISO), ``immediate``, ``edition``, ``edition_date``."""
    v = " ".join(value.split())
    out: dict[str, Any] = {"embargo": None, "immediate": False, "edition": None, "edition_date": None}
    dates: list[tuple[int, int, dt.date]] = []  # (start, end, date)
    for m in _FULL_DATE_RE.finditer(v):
        d = _mk_date(int(m[1]), int(m[2]), int(m[3]))
        if d:
            dates.append((m.start(), m.end(), d))
            ref_year = ref_year or d.year
    year = ref_year or dt.date.today().year
    for m in _SHORT_DATE_RE.finditer(v):
        if any(a <= m.start() < b for a, b, _ in dates):
            continue
        d = _mk_date(year, int(m[1]), int(m[2]))
        if d and dates and d < dates[0][2] - dt.timedelta(days=180):
            d = _mk_date(year + 1, int(m[1]), int(m[2]))  # "12. 31." → "1. 1." across new year
        if d:
            dates.append((m.start(), m.end(), d))
    dates.sort()
    ed = re.search(r"(조간|석간)", v)
    if ed:
        out["edition"] = ed[1]
        before = [x for x in dates if x[0] < ed.start()]
        if before:
            out["edition_date"] = before[-1][2].isoformat()
    if not dates:
        if "즉시" in v:
            out["immediate"] = True
        return out
    _, end, day = dates[0]
    nxt = dates[1][0] if len(dates) > 1 else len(v)
    tm = _TIME_RE.search(v, end, nxt)
    hour = minute = None
    if tm and not re.match(r"\s*[.월]", v[tm.end():]):
        hour, minute = int(tm[2]), int(tm[3] or tm[4] or 0)
        if tm[1] == "오후" and hour < 12:
            hour += 12
        if hour > 24 or minute > 59:
            hour = minute = None
    if hour is None:
        if "즉시" in v:
            out["immediate"] = True
            return out
        edition_day = dt.date.fromisoformat(out["edition_date"]) if out["edition_date"] else day
        hour, minute = {"조간": (6, 0), "석간": (12, 0)}.get(out["edition"] or "", (0, 0))
        day = edition_day
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=KST) + dt.timedelta(hours=hour, minutes=minute)
    out["embargo"] = stamp.isoformat()
    return out


def first_date(value: str) -> str | None:
    m = _FULL_DATE_RE.search(value)
    d = _mk_date(int(m[1]), int(m[2]), int(m[3])) if m else None
    return d.isoformat() if d else None


# --------------------------------------------------------------------------- rows
@dataclass
class _Row:
    cells: list[str]
    block: int
    kind: str
    heading: int | None = None
    page: int | None = None

    @property
    def text(self) -> str:
        return " | ".join(self.cells)


def _rows(doc: Document, max_blocks: int | None = None) -> list[_Row]:
    rows: list[_Row] = []
    page: int | None = 1 if doc.pages else None
    for i, b in enumerate(doc.blocks[:max_blocks]):
        if b.kind == "page_break":
            page = b.page if b.page is not None else (page or 1) + 1
            continue
        if b.page is not None:
            page = b.page
        if b.kind == "table" and b.rows:
            for r in b.rows:
                cells = [c for c in (clean_line(" ".join((x or "").split())) for x in r) if c]
                if cells:
                    rows.append(_Row(cells, i, "table", page=page))
            continue
        text = b.text or ""
        if b.kind == "list_item":
            bullet = str(b.meta.get("bullet") or "").strip()
            if bullet and not text.lstrip().startswith(bullet):
                text = f"{bullet} {text}"
        for raw in text.split("\n"):
            line = clean_line(raw)
            parts = _split_merged(line) if b.kind != "heading" and len(line) > 40 else [line]
            for part in parts:
                if part:
                    rows.append(_Row([part], i, b.kind, b.level if b.kind == "heading" else None, page))
    return rows


_MERGED_CONTACT = re.compile(r"(?<=[.!?\"'”)\s])\s*(?=담\s*당\s*부\s*서\s)")
_MERGED_ATTACH = re.compile(r"(?:(?<=다\.)|(?<=\d{4}\)))\s+(?=(?:붙\s*임|별\s*첨)\s*\d{0,2}\s*[.:：]?\s)")


def _split_merged(line: str) -> list[str]:
    """Split a line where a PDF reader ran the contact table or ``붙임`` into the last
    paragraph ("… 밝혔다. 담당 부서 … 책임자 … 붙임. …")."""
    out = [line]
    m = _MERGED_CONTACT.search(line, 1)
    if m and re.search(r"책임자|담당자", line[m.end():]):
        out = [line[: m.start()].strip(), line[m.end():].strip()]
    last = out[-1]
    m = _MERGED_ATTACH.search(last, 1)
    if m:
        out[-1:] = [last[: m.start()].strip(), last[m.end():].strip()]
    return [x for x in out if x]


def _nospace(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _is_contact_row(text: str) -> bool:
    """A row of the contact table: the 담당 부서 label, or 책임자/담당자 as a label with a phone."""
    if _BULLET_RE.match(text) or re.match(r"^\d{1,2}\s*[.)]\s", text):
        return False
    ns = _nospace(text)
    if len(ns) >= 400:
        return False
    if re.search(r"(?:^|[\s|<\[(])담\s*당\s*부\s*서(?:$|[\s|:：])", text):
        return True
    return bool(re.search(r"(?:^|[\s|])(책임자|담당자)(?:$|[\s|:：])", text)) and bool(_PHONE_RE.search(text))


def _labels(text: str) -> list[tuple[str, str, str]]:
    """``(label, value, rest)`` for the header labels in one row; ``rest`` is text after the
    date/time value (a PDF line may run the title on after the 배포 date)."""
    found = [
        m for k, m in enumerate(_LABEL_RE.finditer(text))
        # "보도시점: 배포 즉시 보도" — that 배포 is part of the value, not a new label.
        if not (k and m[1].startswith("배") and re.match(r"\s*즉시", text[m.end():]))
    ]
    out = []
    for k, m in enumerate(found):
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        raw = text[m.end():end].strip(" |:：")
        pos = 0
        while vm := _VALUE_TOKEN.match(raw, pos):
            if vm.end() == pos:
                break
            pos = vm.end()
        out.append((_nospace(m[1]), raw[:pos].strip(" |"), raw[pos:].strip(" |:：")))
    return out


def is_press_release(doc: Document, head_blocks: int = 20) -> bool:
    """``보도자료`` as a short header cell/line plus a dated 보도시점/배포 label or a contact
    label among the first blocks (a memo that says "보도자료를 배포했다" is not a release)."""
    rows = _rows(doc, head_blocks)
    titled = False
    for r in rows:
        cells = r.cells if r.kind == "table" else [r.text]
        if any(
            (len(_nospace(c)) <= 40 and re.search(r"보\s*도\s*(참\s*고\s*|설\s*명\s*|해\s*명\s*)?자\s*료", c))
            or re.match(r"^\s*(?:\S+\s+)?보\s*도\s*(?:참\s*고\s*|설\s*명\s*|해\s*명\s*)?자\s*료(?!를|는|가|의|에|와|로)", c)
            for c in cells
        ):
            titled = True
            break
    if not titled:
        return False
    for r in rows:
        if any(re.search(r"\d|즉시", value) for _, value, _ in _labels(r.text)) or _is_contact_row(r.text):
            return True
        # "★ 3월 31일(화) 11:00 이후 보도 가능합니다", "문의☎ 02-6919-3832": a release's header in words
        if len(r.text) < 200 and re.search(r"\d", r.text) and (
                embargo_sentence(r.text) or re.search(r"(?:자료\s*)?문의\s*[☎☏:]?\s*\(?0\d", r.text)):
            return True
    head = read_header(doc)
    return bool(head.embargo_text or head.contacts)


# --------------------------------------------------------------------------- contacts
def _parse_contacts(rows: list[str]) -> tuple[list[Contact], list[str]]:
    contacts: list[Contact] = []
    departments: list[str] = []
    dept: str | None = None
    dept_parts: list[str] | None = None
    cur: Contact | None = None
    role: str | None = None

    def close() -> None:
        nonlocal cur
        if cur and (cur.name or cur.phones):
            contacts.append(cur)
        cur = None

    for row in rows:
        row = re.sub(r"담\s*당\s*부\s*서", "담당부서", row)
        row = _SPACED_POSITION.sub(lambda m: _nospace(m[0]), row)
        tokens = re.findall(r"0\d{1,2}-\d{3,4}-\d{4}|1[5-8]\d{2}-\d{4}|[^\s|()（）:：,/☎☏]+", row)
        for prev, t in zip(["", *tokens], tokens, strict=False):
            if _IGNORED_TOKEN.match(t):
                continue
            if t in ("담당부서", "담당과", "부서"):
                close()
                dept_parts = []
                continue
            if t.strip("<>[]") in _ROLE_WORDS:
                if dept_parts:
                    dept = " ".join(dept_parts)
                    departments.append(dept)
                dept_parts = None
                close()
                role = t.strip("<>[]")
                cur = Contact(role=role, department=dept)
                continue
            if _PHONE_RE.fullmatch(t) or re.fullmatch(r"1[5-8]\d{2}-\d{4}", t):
                if dept_parts:
                    dept, dept_parts = " ".join(dept_parts), None
                    departments.append(dept)
                if cur is None:
                    cur = Contact(role=role, department=dept)
                cur.phones.append(t)
                continue
            if dept_parts is not None:
                dept_parts.append(t)
                continue
            if (
                dept and len(t) >= 3 and t not in dept and prev not in _POSITIONS
                and re.fullmatch(r"[가-힣ㆍ·]+(?:과|국|실|팀|센터|단|본부|담당관실)", t)
            ):
                # Department written over two rows of a merged cell ("철도국" / "철도안전정책과").
                old = dept
                dept = f"{dept} {t}"
                departments[:] = [dept if d == old else d for d in departments]
                for c in [*contacts, *([cur] if cur else [])]:
                    if c.department == old:
                        c.department = dept
                continue
            if t in _POSITIONS:
                if cur is not None and (cur.position or cur.name) and cur.phones:
                    close()
                if cur is None:
                    cur = Contact(role=role, department=dept)
                cur.position = cur.position or t
            elif re.fullmatch(r"[가-힣]{2,4}", t):
                if cur is not None and cur.name and cur.phones:
                    close()
                if cur is None:
                    cur = Contact(role=role, department=dept)
                if not cur.name:
                    cur.name = t
    if dept_parts:
        departments.append(" ".join(dept_parts))
    close()
    return contacts, list(dict.fromkeys(departments))


def _contacts_from_inquiry(text: str) -> list[Contact]:
    out = []
    pat = re.compile(
        r"([가-힣]+(?:과|팀|실|국|센터|단|관))?\s*([가-힣]{2,4})\s+(" + "|".join(_POSITIONS)
        + r")\s*\(?\s*[☎☏]?\s*(0\d{1,2}-\d{3,4}-\d{4})"
    )
    for m in pat.finditer(text):
        out.append(Contact(role="담당자", department=m[1], position=m[3], name=m[2], phones=[m[4]]))
    return out


# --------------------------------------------------------------------------- parse
_LEAD_MINISTRY = re.compile(r"^\s*[□○ㅇ◦]?\s*([가-힣]{2,15}(?:부|처|청|위원회))\s*\((?:[^()]{0,10})?(?:장관|처장|청장|위원장|부총리)")


def _find_ministry(doc: Document, head: list[_Row], header: Header | None = None) -> str | None:
    for key in ("ministry", "부처", "MinisterCode", "소관부처"):
        v = (doc.metadata or {}).get(key)
        if v:
            return str(v[0] if isinstance(v, list) else v)
    if header is not None and header.ministry:
        return header.ministry
    for b in doc.blocks[:20]:  # "교육부(장관 최교진)는 …": the lead names the issuing ministry
        m = _LEAD_MINISTRY.match(b.text or "") if b.kind != "table" else None
        if m:
            return m[1]
    for b in doc.blocks[:20]:  # "대한민국 교육부는 …": a known ministry as the lead's subject
        if b.kind == "table" or len(b.text or "") < 40:
            continue
        m = re.match(r"^\s*[□○ㅇ◦]?\s*(?:대한민국\s*)?([가-힣]{2,15})(?:\s*\([^()]{0,30}\))?\s*(?:은|는|와|과|이|가)\s", b.text)
        if m and m[1] in MINISTRIES:
            return m[1]
        break
    for r in head:
        for cell in r.cells:
            cell = _LABEL_RE.sub(" ", cell.replace("보도참고자료", " ").replace("보도자료", " "))
            for part in re.split(r"[\s|:：]+", cell):
                p = part.strip("[]()<>")
                if len(p) >= 3 and _MINISTRY_RE.search(p) and not _LABEL_RE.search(p) and p not in _POSITIONS:
                    return p
    return None


def parse_press_release(doc: Document) -> PressRelease:
    """Parse a press release. Raises :class:`ParseError` if the document has no text."""
    rows = _rows(doc)
    if not rows:
        raise ParseError("보도자료에 본문이 없습니다. 빈 문서이거나 텍스트를 추출하지 못한 파일입니다.")
    head = read_header(doc)
    if head.blocks or head.contact_blocks:
        # rows of the header, title box and contact tables are read from their cells
        skip = head.blocks | head.contact_blocks
        rows = [r for r in rows if r.block not in skip] or rows
    head_limit = min(len(rows), 25)
    header_end = -1  # last row of the contiguous header at the top
    label_rows: set[int] = set()
    values: dict[str, str] = {}
    header_title = ""
    for k in range(head_limit):
        text = rows[k].text
        if rows[k].kind != "table" and _BULLET_RE.match(text) and not text.startswith("-"):
            break  # the body has started
        ns = _nospace(text)
        pairs = _labels(text) if (rows[k].kind == "table" or len(ns) < 120) else []
        if pairs and not _BULLET_RE.match(text):
            label_rows.add(k)
            for label, value, rest in pairs:
                values.setdefault("배포" if label.startswith("배포") else "보도시점", value)
                if len(rest) >= 6 and not _LABEL_RE.search(rest) and not header_title:
                    header_title = rest
        is_head = bool(pairs) or (
            len(ns) < 40 and ("보도자료" in ns or "보도참고자료" in ns or _HEAD_MINISTRY_RE.match(text) is not None)
        )
        if is_head and header_end == k - 1:
            header_end = k
    pr = PressRelease(title=head.headline or header_title)
    pr.doc_type = head.doc_type
    pr.subtitles = list(head.subtitles)
    pr.tags = list(head.tags)
    pr.ministry = _find_ministry(doc, rows[: header_end + 1] if header_end >= 0 else rows[:3], head)
    if head.distributed_text is not None or head.embargo_text is not None:
        values = {k: v for k, v in (("배포", head.distributed_text), ("보도시점", head.embargo_text)) if v}
    dist = values.get("배포", "")
    pr.distributed = first_date(dist)
    if dist:
        day, at = parse_datetime_value(dist)
        pr.distributed = day.isoformat() if day else pr.distributed
        pr.distributed_at = at.isoformat() if at else None
    emb = values.get("보도시점", "")
    if head.embargo_text is not None:
        _table_embargo(pr, head.embargo_text)
    elif emb or "즉시" in dist:
        pr.embargo_text = emb or dist
        ref = int(pr.distributed[:4]) if pr.distributed else None
        info = parse_embargo(emb if emb else dist, ref)
        if not emb:
            info["embargo"] = None
            info["immediate"] = True
        pr.embargo, pr.immediate = info["embargo"], info["immediate"]
        pr.edition, pr.edition_date = info["edition"], info["edition_date"]

    contact_blocks = {r.block for r in rows if r.kind == "table" and _is_contact_row(r.text)}
    contact_blocks -= {r.block for r in rows[: header_end + 1]}
    contact_rows: list[str] = []
    stack: list[Bullet] = []
    section: str | None = None
    attachment: Attachment | None = None
    seen_bullet = False
    prev_contact = False
    for k in range(header_end + 1, len(rows)):
        if k in label_rows:
            continue
        r = rows[k]
        text = r.text
        if r.block in contact_blocks or _is_contact_row(text) or (
            prev_contact and r.kind != "table" and _PHONE_RE.search(text) and len(text) < 80
        ):
            contact_rows.append(text)
            prev_contact = True
            continue
        prev_contact = False
        if _INQUIRY_RE.search(text) and _PHONE_RE.search(text):
            pr.inquiry = text
            continue
        if m := _ATTACH_RE.match(text):
            label = _nospace(m[1]) + (f" {m[2]}" if m[2] else "")
            rest = m[3].strip()
            old = next((a for a in pr.attachments if a.label == label), None)
            if old is None:
                attachment = Attachment(label=label, title=_END_MARK.sub("", rest), page=r.page)
                pr.attachments.append(attachment)
            else:
                attachment = old
            stack = []
            continue
        if attachment is not None:
            im = re.match(r"^(\d{1,2})\s*[.)]\s*(.+)$", text)
            base = attachment.label.split()[0]
            if im and not attachment.lines and attachment.label != base + f" {im[1]}" and int(im[1]) > 1:
                attachment = Attachment(label=f"{base} {im[1]}", title=_END_MARK.sub("", im[2]), page=r.page)
                pr.attachments.append(attachment)
            else:
                attachment.lines.append(text)
            continue
        if (
            not pr.title
            and (r.heading is not None or not _BULLET_RE.match(text) or text.startswith("-"))
            and not _SUBTITLE_RE.match(text)
        ):
            pr.title = text
            continue
        if not seen_bullet and (sm := _SUBTITLE_RE.match(text)):
            pr.subtitles.append(sm[1])
            continue
        bm = _BULLET_RE.match(text) if r.kind != "table" else None
        if bm:
            marker = bm[1] or bm[2]
            rank = RANKS.get(marker, 3)
            if not seen_bullet and rank >= 3 and marker in "-–" and not stack:
                pr.subtitles.append(bm[3].strip(" -–"))
                continue
            seen_bullet = True
            node = Bullet(marker=marker, text=bm[3].strip(), rank=rank, section=section, page=r.page)
            while stack and stack[-1].rank >= rank:
                stack.pop()
            (stack[-1].children if stack else pr.bullets).append(node)
            stack.append(node)
            continue
        if r.heading is not None or (r.kind != "table" and _SECTION_RE.match(text) and not text.endswith("다.")):
            section = text
            stack = []
            continue
        if stack:
            stack[-1].text = f"{stack[-1].text}\n{text}"
        elif not (len(pr.lead) < 6 and not seen_bullet and _header_line(text)):
            pr.lead.append(text)  # header lines above the lead ("보 도 자 료", a date, "… 이후 보도") are not body
    if not pr.title:
        pr.title = doc.title or (rows[0].text if rows else "보도자료")
    if head.contacts:
        contacts = [Contact(role=c.role, department=c.department, position=c.position, name=c.name,
                            phones=list(c.phones)) for c in head.contacts]
        departments = list(dict.fromkeys(c.department for c in contacts if c.department))
        extra, extra_depts = _parse_contacts(contact_rows) if contact_rows else ([], [])
        known = {(c.name, tuple(c.phones)) for c in contacts}
        contacts += [c for c in extra if (c.name, tuple(c.phones)) not in known]
        departments += [d for d in extra_depts if d not in departments]
    else:
        contacts, departments = _parse_contacts(contact_rows)
    if not contacts and pr.inquiry:
        contacts = _contacts_from_inquiry(pr.inquiry)
    pr.contacts = contacts
    pr.departments = departments or list(dict.fromkeys(c.department for c in contacts if c.department))
    _bureau_division(pr)
    if pr.distributed is None and head.date_text:
        pr.distributed = first_date(head.date_text)
    if pr.embargo is None and not pr.immediate and head.embargo_sentences:
        _sentence_embargo(pr, head.embargo_sentences)
    if pr.embargo is None and not pr.immediate and _mentions_embargo(doc, head):
        pr.embargo_hold = True  # fails closed: an operator sets or clears it (dasan docs set-embargo)
    if (doc.metadata or {}).get("news_item_id"):
        _briefing_header(pr, doc.metadata)
    if not pr.ministry and pr.inquiry:
        m = re.search(r"([가-힣]{2,12}(?:부|처|청|위원회))\s", pr.inquiry)
        pr.ministry = m[1] if m else None
    return pr


def _table_embargo(pr: PressRelease, text: str) -> None:
    """보도시점 from the header table: one time per channel; the earliest ends the embargo."""
    pr.embargo_text = " / ".join(" ".join(x.split()) for x in split_channels(text))
    ref = dt.date.fromisoformat(pr.distributed) if pr.distributed else None
    times = [parse_time_segment(seg, ref) for seg in split_channels(text)]
    dated = [t for t in times if t.at is not None and not t.immediate]
    for t in dated:
        pr.embargo_times[t.channel or "보도"] = t.at.isoformat()  # type: ignore[union-attr]
    for t in times:
        if t.edition:
            pr.edition = t.edition
            if t.at is not None:
                pr.edition_date = t.at.date().isoformat()
    single = parse_embargo(text, ref.year if ref else None)
    if len(times) == 1 and single["edition_date"]:
        pr.edition, pr.edition_date = single["edition"], single["edition_date"]
    if dated and not any(t.immediate for t in times):
        first = min(dated, key=lambda t: t.at)  # type: ignore[arg-type,return-value]
        pr.embargo = first.at.isoformat()  # type: ignore[union-attr]
        pr.embargo_estimated = first.estimated
        pr.immediate = first.immediate
        return
    if any(t.immediate for t in times) or ("즉시" in text and not dated):
        pr.immediate = True  # public from distribution on: no embargo time
        when = next((t.at for t in times if t.immediate and t.at is not None), None)
        if pr.distributed is None and when is not None:
            pr.distributed = when.date().isoformat()  # "2026. 4. 28.(화) 배포 즉시"
        return
    pr.embargo_hold = True  # a 보도시점 cell nobody can read (blank included): fails closed


def _mentions_embargo(doc: Document, head: Header) -> bool:
    """Does the release state an embargo anywhere in its first blocks (label or sentence)?"""
    if head.embargo_text is not None:
        return True
    for b in doc.blocks[:15]:
        cells = [c for r in (b.rows or []) for c in r] if b.kind == "table" else [b.text or ""]
        for c in cells:
            ns = _nospace(c)
            if ("보도시점" in ns or "보도일시" in ns or "엠바고" in ns) and len(ns) < 300:
                return True
            if embargo_sentence(c) and len(ns) < 200:
                return True
    return False


def _bureau_division(pr: PressRelease) -> None:
    """실·국 and 담당 과 from the first department that names both ("철도국 철도안전정책과")."""
    for dept in pr.departments:
        parts = [p for p in dept.split() if _nospace(p) not in MINISTRIES]
        if not parts:
            continue
        pr.division = parts[-1]
        if len(parts) >= 2 and re.search(r"(?:국|실|관|본부|단)$", parts[-2]):
            pr.bureau = parts[-2]
        if pr.ministry is None and _nospace(dept.split()[0]) in MINISTRIES:
            pr.ministry = _nospace(dept.split()[0])
        return


def _sentence_embargo(pr: PressRelease, sentences: list[str]) -> None:
    """Embargo stated in words at the top ("★ 3월 31일(화) 11:00 이후 보도하여 주시기 바랍니다",
    "인터넷 온라인 : ‘26. 4. 30.(목) 12:00 이후 보도"): the earliest readable time."""
    ref = dt.date.fromisoformat(pr.distributed) if pr.distributed else None
    times = [t for s in sentences if (t := parse_time_segment(s, ref)).at is not None and not t.immediate]
    if not times:
        return
    first = min(times, key=lambda t: t.at)  # type: ignore[arg-type,return-value]
    pr.embargo = first.at.isoformat()  # type: ignore[union-attr]
    pr.embargo_estimated = first.estimated
    pr.embargo_text = " / ".join(sentences)
    for t in times:
        pr.embargo_times[t.channel or "보도"] = t.at.isoformat()  # type: ignore[union-attr]
        if t.edition and pr.edition is None:
            pr.edition, pr.edition_date = t.edition, t.at.date().isoformat()  # type: ignore[union-attr]


def _briefing_header(pr: PressRelease, md: dict[str, Any]) -> None:
    """정책브리핑 records state their header as fields: they win over what the body text says."""
    pr.title = md.get("briefing_title") or pr.title
    if md.get("subtitles"):
        pr.subtitles = list(md["subtitles"])
    if md.get("approve_date"):
        pr.distributed_at = str(md["approve_date"])
        pr.distributed = pr.distributed_at[:10]
    pr.embargo_hold = False
    if md.get("briefing_embargo"):
        pr.embargo = str(md["briefing_embargo"])
        pr.embargo_text = f"정책브리핑 EmbargoDate {pr.embargo}"
        pr.embargo_times = {"정책브리핑": pr.embargo}
        pr.immediate = False
    elif not pr.embargo:
        pr.immediate = True  # no EmbargoDate: public on approval


# --------------------------------------------------------------------------- operator view
def parse_embargo_arg(value: str) -> str | None:
    """``none`` or an ISO date-time (a date alone means 00:00; no offset means KST)."""
    v = value.strip()
    if v.lower() in ("none", "없음", "해제"):
        return None
    try:
        stamp = dt.datetime.fromisoformat(v)
    except ValueError as e:
        raise ValueError(f"'{value}'은(는) 날짜·시각으로 읽을 수 없습니다. 예: 2026-03-02T09:00+09:00 또는 none") from e
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=KST)
    return stamp.isoformat()


def embargo_status(meta: dict[str, Any]) -> str | None:
    """One Korean line on a press release's embargo (None for other documents)."""
    if meta.get("embargo_hold"):
        return ("보류: 보도시점을 읽지 못해 '민감'으로 비공개 중입니다. "
                "운영자가 `dasan docs set-embargo ID 시각|none`으로 정하거나 해제하세요.")
    raw = meta.get("embargo")
    if raw:
        how = " (행사 시각 기준이라 그날 24:00까지 비공개로 추정)" if meta.get("embargo_estimated") else ""
        who = f", 운영자 {meta['embargo_set_by']} 지정" if meta.get("embargo_set_by") else ""
        return f"{raw}{how}{who} — 이 시각 전에는 '민감' 이상만 볼 수 있습니다"
    if meta.get("immediate"):
        return "배포 즉시 보도 (엠바고 없음)"
    if meta.get("embargo_set_by"):
        return f"없음 (운영자 {meta['embargo_set_by']}가 해제)"
    return None


def _header_line(text: str) -> bool:
    """Banner, date, embargo or contact lines that sit in the header zone of some layouts."""
    return is_headerish(text) and not _LABEL_RE.search(text[:12])
