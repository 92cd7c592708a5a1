"""Header and contact tables of real 보도자료, read from table cells (not from flattened text).

Real releases (HWPX, HWP 5.0, HWPML) put their header in tables::

    | (logo) | 보도자료 |
    | 배포 | 2026. 5. 22.(금) 15:00 | 보도시점 | (인터넷) 2026. 5. 25.(월) 09:00 |
    |      |                        |          | (지  면) 2026. 5. 26.(화) 조간   |
    | 특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입 |      ← headline
    | - 5월 27일부터 … 시작  /  【국정과제】 …                          |      ← subtitles, tags

and end with a contact table::

    | 담당 부서 | 교육부             | 책임자 | 과  장 | 정일선 | (044-203-7112) |
    |           | 양성평등정책담당관 | 담당자 | 사무관 | 전향실 | (044-203-7115) |

Values are found by the cell that holds a label (merged cells arrive as empty cells in the
rows below, so a value continues down its column). Everything here degrades to "not found":
a field this module cannot read with confidence is left empty, never guessed, and the
line-based parser in :mod:`dasan.ingest.press` fills what it can.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from dasan.types import Block, Document

#: Blocks at the top of a release that may hold the header and the headline.
HEAD_BLOCKS = 12

_LABELS = {
    "배포": "배포", "배포일": "배포", "배포일시": "배포", "배포일자": "배포",
    "보도시점": "보도시점", "보도일시": "보도시점", "보도일자": "보도시점", "보도": "보도시점", "엠바고": "보도시점",
    "배포시점": "배포",
}
_DOC_TYPES = ("보도참고자료", "보도설명자료", "보도해명자료", "보도자료", "설명자료", "해명자료", "참고자료")
_CHANNEL_RE = re.compile(
    r"[(\[<]\s*(인\s*터\s*넷|온\s*라\s*인|지\s*면|방\s*송|통\s*신|신\s*문|인터넷\s*[·ㆍ,]\s*방송(?:\s*[·ㆍ,]\s*통신)?|"
    r"방송\s*[·ㆍ,]\s*인터넷|인터넷\s*[·ㆍ,]\s*온라인)\s*[)\]>]\s*:?"
)
_PHONE_RE = re.compile(r"(?<!\d)(0\d{1,2}|1[5-8]\d{2})[-.)\s]?(\d{3,4})-(\d{4})(?!\d)")
_PHONE_CELL_RE = re.compile(r"^[\s(☎☏:]*((?:0\d{1,2}[-.)\s]?)?\d{3,4}-\d{4}(?:\s*[~,]\s*\d{1,4})?)[\s)]*$")
_ROLE_WORDS = {"책임자": "책임자", "담당자": "담당자", "실무자": "담당자", "총괄": "책임자"}
_DEPT_LABELS = {"담당부서", "담당과", "부서", "담당", "수행기관", "주관기관", "협조", "공동", "총괄", "주관",
                "문의", "자료문의", "담당부서및연락처"}
_POSITIONS = {
    "과장", "팀장", "국장", "실장", "단장", "센터장", "부장", "차장", "반장", "관장", "소장", "본부장", "원장",
    "사무관", "주무관", "서기관", "연구관", "연구사", "행정관", "전문관", "전문위원", "기술서기관", "장학관",
    "장학사", "교육연구관", "교육연구사", "공업사무관", "시설사무관", "보건사무관", "행정사무관", "주사",
    "주사보", "연구원", "선임연구원", "책임연구원", "전임연구원", "팀원", "대리", "주임", "담당관", "과장대리",
    "정책관", "기획관", "심의관", "대변인", "부대변인", "위원", "사무국장", "선임", "책임", "매니저", "선임매니저",
    "교수", "파견관", "전문경력관", "전문임기제", "임기제", "실무관", "기자", "PD",
}
_NAME_RE = re.compile(r"^[가-힣]{2,5}$")
_UNIT_SUFFIX = re.compile(r"(?:부|처|청|원|국|실|관|과|팀|센터|단|본부|위원회|담당관|재단|공단|공사|연구소|학교|대학교|기관)$")
_BULLET_START = re.compile(r"^\s*[□■▣◆◇○●◦❍ㅇ❏▶▷►•※*]")
_SUB_MARK = re.compile(r"^\s*(?:[-–―~ㅇ○◦▸‣▶•·*]\s*)+")
_TAG_RE = re.compile(r"[【\[<〈]\s*(?:관련\s*)?국정\s*과제\s*[】\]>〉]\s*:?\s*(.+)")
_FULL_DATE_RE = re.compile(r"(\d{4})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})\s*[.일]?")
_SHORT_YEAR_DATE_RE = re.compile(r"[‘'’`]\s*(\d{2})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})\s*[.일]?")
_MD_DATE_RE = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:\.|월)\s*(\d{1,2})\s*(?:\.|일)")
_CLOCK_RE = re.compile(r"(?:(오전|오후)\s*)?(\d{1,2})\s*(?::\s*(\d{2})|시(?:\s*(\d{1,2})\s*분)?)")
_EDITION_RE = re.compile(r"(조\s*간|석\s*간)")
_EVENT_RE = re.compile(r"(종료|시작|개최|브리핑|발표|회의|행사|이후\s*즉시|직후|후)\s*(?:시|후|이후|직후)?")
_EMBARGO_SENTENCE = re.compile(r"(이후\s*보도|보도\s*(?:가능|하여\s*주시기|해\s*주시기|바랍니다)|엠\s*바\s*고)")
_LABEL_START = re.compile(r"^\s*[\[<(]?\s*(보\s*도\s*시\s*점|보\s*도\s*일\s*[시자]|배\s*포(\s*일\s*[시자]?)?|엠\s*바\s*고)\s*[\]>)]?\s*[:：|]")
_KST = dt.timezone(dt.timedelta(hours=9), "KST")

#: Central government bodies (2026 organisation, with recent former names) for the 부처 field.
_MINISTRY_NAMES = """
기획재정부 재정경제부 기획예산처 교육부 과학기술정보통신부 외교부 통일부 법무부 국방부 행정안전부 국가보훈부
문화체육관광부 농림축산식품부 산업통상자원부 산업통상부 보건복지부 환경부 기후에너지환경부 고용노동부
여성가족부 성평등가족부 국토교통부 해양수산부 중소벤처기업부 인사혁신처 법제처 식품의약품안전처 국가데이터처
통계청 국세청 관세청 조달청 재외동포청 검찰청 병무청 방위사업청 경찰청 소방청 국가유산청 문화재청 농촌진흥청
산림청 특허청 지식재산처 기상청 행정중심복합도시건설청 새만금개발청 해양경찰청 질병관리청 우주항공청
국무조정실 국무총리비서실 대통령비서실 국가안보실 감사원 국가정보원 방송통신위원회 방송미디어통신위원회
공정거래위원회 금융위원회 국민권익위원회 개인정보보호위원회 원자력안전위원회 국가교육위원회 중앙선거관리위원회
관계부처합동 관계부처
"""
MINISTRIES = frozenset(_MINISTRY_NAMES.split())


@dataclass
class ContactRow:
    role: str | None
    department: str | None
    position: str | None
    name: str | None
    phones: list[str] = field(default_factory=list)


@dataclass
class Header:
    """What the header tables say; every field may be missing."""

    doc_type: str | None = None  # 보도자료 | 보도참고자료 | …
    ministry: str | None = None
    headline: str | None = None
    subtitles: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # 국정과제
    distributed_text: str | None = None
    embargo_text: str | None = None
    date_text: str | None = None  # a bare date in the header zone ("보 도 자 료 / 2026. 3. 31.(화)")
    embargo_sentences: list[str] = field(default_factory=list)  # "… 11:00 이후 보도 가능합니다"
    blocks: set[int] = field(default_factory=set)  # header/headline blocks (never body text)
    contacts: list[ContactRow] = field(default_factory=list)
    contact_blocks: set[int] = field(default_factory=set)


def nospace(s: str) -> str:
    return re.sub(r"\s+", "", s or "")


def _label(cell: str) -> str | None:
    ns = nospace(cell).strip(":：|[]<>()【】")
    return _LABELS.get(ns)


def _doc_type(cell: str) -> str | None:
    ns = nospace(cell)
    if len(ns) > 14:
        return None
    return next((t for t in _DOC_TYPES if t in ns), None)


def is_ministry(text: str) -> bool:
    return nospace(text) in MINISTRIES


# --------------------------------------------------------------------------- header
def _label_values(rows: list[list[str]]) -> dict[str, list[str]]:
    """Values by label from a table: the cells right of a label cell, and the cells below
    them while the label's own cell stays empty (a merged label cell)."""
    out: dict[str, list[str]] = {}
    spans: list[tuple[str, int, int]] = []  # (label, first value col, end col)
    for r, row in enumerate(rows):
        for cell in row:  # "보도시점: 2026. 6. 23.(화) 11:00" in one cell
            m = _LABEL_START.match(cell)
            if m and not _label(cell) and (lab := _LABELS.get(nospace(m[1]))):
                out.setdefault(lab, []).append(cell[m.end():].strip())
        labels = [(c, lab) for c, cell in enumerate(row) if (lab := _label(cell))]
        if labels:
            spans = []
            for k, (c, lab) in enumerate(labels):
                end = labels[k + 1][0] if k + 1 < len(labels) else len(row)
                spans.append((lab, c + 1, end))
                vals = [row[j] for j in range(c + 1, end) if row[j].strip()]
                out.setdefault(lab, []).extend(vals)
            continue
        if not spans or r == 0:
            continue
        label_cols = {s - 1 for _, s, _ in spans}
        if any(j < len(row) and row[j].strip() for j in label_cols):
            spans = []  # a new, unlabelled row: the header table's values ended
            continue
        for lab, start, end in spans:
            vals = [row[j] for j in range(start, min(end, len(row))) if row[j].strip()]
            out.setdefault(lab, []).extend(vals)
    return out


def _units(blocks: list[Block]) -> list[tuple[int, int, list[str]]]:
    """(block, row, cells) for the first blocks; a paragraph is one single-cell row."""
    out = []
    for i, b in enumerate(blocks[:HEAD_BLOCKS]):
        if b.kind == "table" and b.rows:
            for r, row in enumerate(b.rows):
                out.append((i, r, [c or "" for c in row]))
        elif b.text and b.text.strip() and b.kind != "page_break":
            out.append((i, -1, [b.text]))
    return out


def is_headerish(text: str) -> bool:
    """Text that belongs to the header zone, not to the headline."""
    ns = nospace(text)
    if not ns:
        return True
    if _doc_type(text) or is_ministry(text) or _label(text):
        return True
    rest = _FULL_DATE_RE.sub("", ns)
    for t in _DOC_TYPES:
        rest = rest.replace(t, "")
    if not re.sub(r"[()월화수목금토일:\d.~\-]", "", rest):
        return True  # "보 도 자 료 / 2026. 3. 31.(화)"
    if re.search(r"https?://|www\.|[\w.-]+\.(?:go|or|ac|re)\.kr", text) and len(ns) < 80:
        return True
    if re.fullmatch(r"[A-Za-z .,&()\-]+", text.strip()):
        return True  # the ministry's English name
    if len(ns) <= 30 and re.fullmatch(r"[\d.()월화수목금토일:~\-년일시분오전후]+", ns):
        return True  # a bare date line
    if _PHONE_RE.search(text) and len(ns) < 120:
        return True  # 홍보실 ☎ …, [자료 문의] …
    if _EMBARGO_SENTENCE.search(text) and len(ns) < 160:
        return True
    if re.match(r"^[\[<【(]?\s*(자료\s*)?문의", text.strip()):
        return True
    return bool(re.fullmatch(r"(관계부처합동|관계부처|합동|[가-힣]{1,6}(부|처|청)ㆍ?)+", ns)) and len(ns) <= 20


def _clean_title(text: str) -> str:
    lines = [" ".join(x.split()) for x in text.replace("\r", "\n").split("\n")]
    return " ".join(x for x in lines if x).strip()


def read_header(doc: Document) -> Header:
    """The header fields of a release as far as its first tables and lines state them."""
    h = Header()
    blocks = doc.blocks
    units = _units(blocks)
    # 1. labels (배포, 보도시점) and the 보도자료 / ministry cells
    for i, b in enumerate(blocks[:HEAD_BLOCKS]):
        if b.kind != "table" or not b.rows:
            continue
        vals = _label_values([[c or "" for c in r] for r in b.rows])
        if vals:
            h.blocks.add(i)
            if vals.get("배포") and h.distributed_text is None:
                h.distributed_text = "\n".join(vals["배포"])
            if vals.get("보도시점") and h.embargo_text is None:
                h.embargo_text = "\n".join(vals["보도시점"])
    for i, r, cells in units:
        for cell in cells:
            if (t := _doc_type(cell)) and h.doc_type is None:
                h.doc_type = t
                h.blocks.add(i) if r >= 0 and len(blocks[i].rows or []) <= 2 else None
            if is_ministry(cell) and h.ministry is None:
                h.ministry = "관계부처 합동" if nospace(cell).startswith("관계부처") else nospace(cell)
    for _i, _r, cells in units[:10]:
        for cell in cells:
            ns = nospace(cell)
            if h.date_text is None and _FULL_DATE_RE.search(cell) and len(ns) <= 40 and (
                    _doc_type(cell) or is_headerish(cell)) and not _EMBARGO_SENTENCE.search(cell):
                h.date_text = _FULL_DATE_RE.search(cell)[0]  # type: ignore[index]
            if _EMBARGO_SENTENCE.search(cell) and len(ns) < 160 and re.search(r"\d", cell):
                h.embargo_sentences.append(" ".join(cell.split()))
    # 2. headline: the first unit that is not header material, in a title box when there is one
    seen_header = False
    for k, (i, r, cells) in enumerate(units):
        text = " ".join(c for c in cells if c.strip())
        if i in h.blocks or is_headerish(text) or any(_label(c) for c in cells) or _LABEL_START.match(text):
            seen_header = seen_header or i in h.blocks or bool(_doc_type(text)) or any(_label(c) for c in cells)
            continue
        ns = nospace(text)
        if _BULLET_START.match(text) or len(ns) < 6:
            if seen_header:
                break  # the body started without a headline we can trust
            continue
        if r < 0 and (len(ns) > 150 or text.rstrip().endswith(("다.", "니다."))):
            if seen_header:
                break
            continue
        if r >= 0 and len([c for c in cells if c.strip()]) > 1:
            continue  # a multi-column table is data, not a title box
        lines = [x for x in text.replace("\r", "\n").split("\n") if x.strip()]
        first_sub = next((n for n, x in enumerate(lines) if n and re.match(r"^\s*[-–―]\s", x)), len(lines))
        if r < 0 and not h.blocks:
            break  # a header written as lines (PDF, text): the line-based parser reads it
        h.headline = _clean_title(_TAG_RE.sub("", "\n".join(lines[:first_sub])))
        if first_sub < len(lines):
            _subtitles("\n".join(lines[first_sub:]), h)
        h.blocks.add(i)
        if r >= 0:  # the rest of the title box: subtitles and 국정과제 tags
            for i2, _r2, cells2 in units[k + 1:]:
                if i2 != i:
                    break
                _subtitles(" ".join(c for c in cells2 if c.strip()), h)
        break
    # 3. the contact table, anywhere in the document
    h.contacts, h.contact_blocks = read_contacts(blocks)
    return h


def _subtitles(text: str, h: Header) -> None:
    for line in text.replace("\r", "\n").split("\n"):
        line = " ".join(line.split())
        if not line:
            continue
        if m := _TAG_RE.search(line):
            h.tags.append(m[1].strip())
            continue
        s = _SUB_MARK.sub("", line).strip(" -–―~")
        if s:
            h.subtitles.append(s)


# --------------------------------------------------------------------------- contacts
def _phone(cell: str) -> str | None:
    m = _PHONE_RE.search(cell)
    if m and len(nospace(cell)) <= 40:
        return f"{m[1]}-{m[2]}-{m[3]}"
    return None


def _is_contact_table(rows: list[list[str]]) -> bool:
    roles = phones = 0
    for row in rows:
        ns = [nospace(c) for c in row]
        if any(c in _ROLE_WORDS or c in ("담당부서", "담당과") for c in ns):
            roles += 1
        if any(_phone(c) for c in row):
            phones += 1
    return phones >= 1 and roles >= 1


def read_contacts(blocks: list[Block]) -> tuple[list[ContactRow], set[int]]:
    """Contacts from every contact table: role, department, position, name and phone."""
    contacts: list[ContactRow] = []
    used: set[int] = set()
    for i, b in enumerate(blocks):
        if b.kind != "table" or not b.rows or len(b.rows) > 40:
            continue
        rows = [[c or "" for c in r] for r in b.rows]
        if not _is_contact_table(rows):
            continue
        found = _contacts_of(rows)
        if found:
            used.add(i)
            contacts.extend(found)
    return contacts, used


def _split_stacked(rows: list[list[str]]) -> list[list[str]]:
    """A row that stacks several people in one cell each ("사무관\n사무관", "최지원\n김민성",
    two phones) becomes one row per person; the other cells stay on the first of them."""
    out: list[list[str]] = []
    for row in rows:
        phone_col = next((j for j, c in enumerate(row) if len(_PHONE_RE.findall(c)) >= 2), None)
        if phone_col is None:
            out.append(row)
            continue
        n = len([x for x in row[phone_col].split("\n") if x.strip()])
        split = [[x for x in c.split("\n") if x.strip()] for c in row]
        if n < 2 or not all(len(x) in (0, 1, n) for x in split):
            out.append(row)
            continue
        for k in range(n):
            out.append([
                (x[k] if len(x) == n else (row[j] if k == 0 else "")) for j, x in enumerate(split)
            ])
    return out


def _contacts_of(rows: list[list[str]]) -> list[ContactRow]:
    out: list[ContactRow] = []
    unit: list[ContactRow] = []  # the 책임자 row and the rows under it share a department
    dept_parts: list[str] = []
    role: str | None = None

    def close() -> None:
        dept = " ".join(dict.fromkeys(dept_parts)) or None
        for c in unit:
            c.department = c.department or dept
        out.extend(unit)

    for row in _split_stacked(rows):
        cells = [" ".join(c.split()) for c in row]
        ns = [nospace(c) for c in cells]
        phone_col = next((j for j, c in enumerate(cells) if _phone(c)), None)
        role_col = next((j for j, c in enumerate(ns) if c in _ROLE_WORDS), None)
        row_role = _ROLE_WORDS[ns[role_col]] if role_col is not None else None
        if row_role == "책임자" or (row_role and role is None):
            close()
            unit, dept_parts = [], []
        if row_role:
            role = row_role
        limit = role_col if role_col is not None else phone_col if phone_col is not None else len(cells)
        own: list[str] = []
        for j in range(limit):
            c = ns[j].strip("<>[]()")
            if re.fullmatch(r"[<\[(【].*[>\])】]", ns[j]):
                continue  # "<총괄>", "<작업자 안전>": a note on the role, not a department
            if not c or c in _DEPT_LABELS or c in _POSITIONS or c in _ROLE_WORDS or _phone(cells[j]):
                continue
            if _NAME_RE.match(c) and not _UNIT_SUFFIX.search(c) and j == limit - 1 and phone_col is not None:
                continue  # a name column left of the phone when there is no role column
            for part in re.split(r"\n|/", row[j]):
                part = " ".join(part.split())
                if (part and nospace(part) not in _DEPT_LABELS
                        and not re.fullmatch(r"[<\[(【].*[>\])】]", nospace(part))):
                    own.append(part)
        dept_parts.extend(own)
        if phone_col is None:
            continue
        name = position = None
        for j in range(phone_col - 1, (role_col if role_col is not None else -1), -1):
            c = ns[j]
            if not c:
                continue
            words = cells[j].split()
            if name is None and len(words) == 2 and _NAME_RE.match(words[1]) and (
                    words[0] in _POSITIONS or len(words[0]) <= 5):
                position, name = words  # "과장 최민호" in one cell
                break
            if name is None and _NAME_RE.match(c) and c not in _POSITIONS and not _UNIT_SUFFIX.search(c[-2:] if len(c) > 3 else ""):
                name = c
                continue
            if name is not None and position is None and (c in _POSITIONS or len(c) <= 6):
                position = c
            break
        if name is None and position is None:
            continue
        phones = [_phone(cells[phone_col]) or ""]
        phones += [p for j in range(phone_col + 1, len(cells)) if (p := _phone(cells[j]))]
        unit.append(ContactRow(role=role, department=None, position=position, name=name, phones=phones))
    close()
    return out


# --------------------------------------------------------------------------- embargo
@dataclass
class EmbargoTime:
    channel: str | None  # 인터넷 | 지면 | …
    at: dt.datetime | None
    text: str
    estimated: bool = False  # an event time ("국무회의 종료 시"): held to the end of that day
    immediate: bool = False
    edition: str | None = None


def _date_in(text: str, ref: dt.date | None) -> tuple[dt.date | None, int]:
    m = _FULL_DATE_RE.search(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), m.end()
        except ValueError:
            return None, 0
    m = _SHORT_YEAR_DATE_RE.search(text)
    if m:
        try:
            return dt.date(2000 + int(m[1]), int(m[2]), int(m[3])), m.end()
        except ValueError:
            return None, 0
    m = _MD_DATE_RE.search(text)
    if m and ref is not None:
        try:
            d = dt.date(ref.year, int(m[1]), int(m[2]))
        except ValueError:
            return None, 0
        if d < ref - dt.timedelta(days=180):
            d = d.replace(year=ref.year + 1)
        return d, m.end()
    return None, 0


def parse_time_segment(text: str, ref: dt.date | None) -> EmbargoTime:
    """One 보도시점 value such as ``(인터넷) 2026. 5. 25.(월) 09:00`` or ``(지 면) … 조간``."""
    t = " ".join(text.split())
    ch = _CHANNEL_RE.search(t)
    channel = nospace(ch[1]) if ch else None
    body = t[ch.end():] if ch else t
    day, end = _date_in(body, ref)
    if re.search(r"즉\s*시", body) and not _CLOCK_RE.search(body[end:].replace("즉시", "")):
        at = dt.datetime(day.year, day.month, day.day, tzinfo=_KST) if day else None
        return EmbargoTime(channel, at, t, immediate=True)
    if day is None:
        return EmbargoTime(channel, None, t)
    if ref is not None and day < ref - dt.timedelta(days=1):
        # a typo'd year ("(지 면) 2025. 2. 25." in a 2026 release): the distribution year
        try:
            fixed = day.replace(year=ref.year)
        except ValueError:
            fixed = None
        if fixed is None or not (ref - dt.timedelta(days=1) <= fixed <= ref + dt.timedelta(days=60)):
            return EmbargoTime(channel, None, t)
        day = fixed
    rest = body[end:]
    rest = re.sub(r"^\s*\(\s*[월화수목금토일]\s*\)", "", rest)
    edition = _EDITION_RE.search(rest)
    clock = _CLOCK_RE.search(rest)
    if clock and not re.match(r"\s*[.월]", rest[clock.end():]):
        hour, minute = int(clock[2]), int(clock[3] or clock[4] or 0)
        if clock[1] == "오후" and hour < 12:
            hour += 12
        if hour <= 24 and minute <= 59:
            at = dt.datetime(day.year, day.month, day.day, tzinfo=_KST) + dt.timedelta(hours=hour, minutes=minute)
            return EmbargoTime(channel, at, t, edition=nospace(edition[1]) if edition else None)
    if edition:
        ed = nospace(edition[1])
        hour = 6 if ed == "조간" else 12
        at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=_KST)
        return EmbargoTime(channel, at, t, edition=ed)
    if re.search(r"즉\s*시", rest):
        at = dt.datetime(day.year, day.month, day.day, tzinfo=_KST)
        return EmbargoTime(channel, at, t, immediate=True)
    if _EVENT_RE.search(rest):
        # "국무회의 종료 시", "브리핑시": the hour is unknown, so the release stays closed to the
        # end of that day unless an operator sets the real time.
        at = dt.datetime(day.year, day.month, day.day, 23, 59, tzinfo=_KST)
        return EmbargoTime(channel, at, t, estimated=True)
    return EmbargoTime(channel, dt.datetime(day.year, day.month, day.day, tzinfo=_KST), t)


def split_channels(value: str) -> list[str]:
    """``(인터넷) … (지 면) …`` or one line per channel → one string per channel."""
    v = value.replace("\r", "\n")
    starts = [m.start() for m in _CHANNEL_RE.finditer(v)]
    if len(starts) >= 2:
        return [v[a:b].strip() for a, b in zip(starts, [*starts[1:], len(v)], strict=True) if v[a:b].strip()]
    lines = [x.strip() for x in v.split("\n") if x.strip()]
    return lines or [v.strip()]


def parse_datetime_value(value: str, ref: dt.date | None = None) -> tuple[dt.date | None, dt.datetime | None]:
    """배포 value: its date, and its date-time when a clock time is given."""
    t = " ".join(value.split())
    day, end = _date_in(t, ref)
    if day is None:
        return None, None
    rest = re.sub(r"^\s*\(\s*[월화수목금토일]\s*\)", "", t[end:])
    clock = _CLOCK_RE.search(rest)
    if clock and not re.match(r"\s*[.월]", rest[clock.end():]):
        hour, minute = int(clock[2]), int(clock[3] or clock[4] or 0)
        if clock[1] == "오후" and hour < 12:
            hour += 12
        if hour <= 23 and minute <= 59:
            return day, dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_KST)
    return day, None


def embargo_sentence(text: str) -> bool:
    """A line that sets an embargo in words ("… 11:00 이후 보도하여 주시기 바랍니다")."""
    return bool(_EMBARGO_SENTENCE.search(text))


def header_summary(h: Header) -> dict[str, Any]:
    return {"doc_type": h.doc_type, "ministry": h.ministry, "headline": h.headline, "subtitles": h.subtitles,
            "tags": h.tags, "distributed": h.distributed_text, "embargo": h.embargo_text,
            "contacts": [vars(c) for c in h.contacts]}
