"""A pre-filled 사고 보고 draft from a short incident description, for a person to check.

The draft has the columns of the operator's own register (사고번호, 발생일시, 호선, 역, 장소,
사고유형, 원인, 피해, 조치, 재발방지대책, 보고여부 — whatever its header says), filled where the
description says so and marked "(확인 필요)" where it does not, plus the legal reports the incident
may require (duties.py) with deadlines computed from 발생일시 and the items each report must
contain. Nothing is filed or written anywhere: the draft is returned, and audited as a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dasan.apps.field import duties as dt
from dasan.apps.field import records as rec

TODO = "(확인 필요)"
_DATETIME = re.compile(
    r"(?:(?P<y>20\d{2})\s*[-./년]\s*)?(?P<mo>\d{1,2})\s*[-./월]\s*(?P<d>\d{1,2})\s*일?"
    r"(?:\s*(?P<ampm>오전|오후)?\s*(?P<h>\d{1,2})\s*(?:[:시]\s*(?P<mi>\d{1,2})?\s*분?)?)?")
_TIME = re.compile(r"(?P<rel>오늘|어제|그저께)?\s*(?P<ampm>오전|오후|새벽|밤|저녁)?\s*(?P<h>\d{1,2})\s*(?::|시)\s*(?:(?P<mi>\d{1,2})\s*분?)?")


def parse_when(text: str, now: datetime) -> datetime | None:
    """발생일시 from the description ("12월 5일 14시 20분", "2026-12-05 08:40", "오늘 오후 2시 10분",
    "어제 23:50"); None when it names no time."""
    m = _DATETIME.search(text)
    if m and (m.group("h") is not None or "일" in m.group(0)):
        y = int(m.group("y") or now.year)
        h = int(m.group("h") or 0)
        if m.group("ampm") == "오후" and h < 12:
            h += 12
        try:
            return datetime(y, int(m.group("mo")), int(m.group("d")), h, int(m.group("mi") or 0))
        except ValueError:
            return None
    t = _TIME.search(text)
    if t:
        h = int(t.group("h"))
        if t.group("ampm") in ("오후", "밤", "저녁") and h < 12:
            h += 12
        day = now - timedelta(days={"어제": 1, "그저께": 2}.get(t.group("rel") or "", 0))
        if h > 23 or int(t.group("mi") or 0) > 59:
            return None
        return day.replace(hour=h, minute=int(t.group("mi") or 0), second=0, microsecond=0)
    return None


@dataclass
class Draft:
    description: str
    table: str | None
    fields: dict[str, str]
    filled: list[str]  # columns filled from the description
    duties: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"description": self.description, "register": self.table, "fields": self.fields,
                "filled_from_description": self.filled, "reports": self.duties, "notes": self.notes,
                "status": "초안 — 담당자 확인 전 (자동으로 제출되지 않음)"}

    def text(self) -> str:
        lines = ["[사고 보고 초안 — 담당자가 확인한 뒤 제출하세요. 자동으로 제출되지 않습니다]",
                 "(* 표시: 설명에 없던 값을 사고대장·법령에서 추정한 것)"]
        width = max((len(k) for k in self.fields), default=4)
        for k, v in self.fields.items():
            mark = "" if k in self.filled or v == TODO else " *"
            lines.append(f"{k.ljust(width)} : {v}{mark}")
        if self.duties:
            lines.append("")
            lines.append("법령에 따른 보고")
            for d in self.duties:
                lines.append(f"- {d['name']} [{d['applies']}] → {d['to']}")
                lines.append(f"  기한: {d['due']}")
                lines.append(f"  근거: {', '.join(s['citation'] + (' (시행 ' + s['시행일자'] + ')' if s.get('시행일자') else '') for s in d['sources'])}")
                if d["items"]:
                    lines.append(f"  보고 내용: {' / '.join(d['items'])}")
                lines.append(f"  판단: {d['why']}")
        for n in self.notes:
            lines.append(f"※ {n}")
        return "\n".join(lines)


def _next_id(table: rec.Table, col: str, when: datetime | None) -> str:
    ids = [r.fields.get(col, "") for r in table.rows]
    year = (when or datetime.now()).year
    pat = re.compile(r"^(?P<pre>.*?)(?P<y>20\d{2})(?P<sep>\D+)(?P<n>\d+)$")
    found = [(int(m.group("y")), int(m.group("n")), m.group("pre"), m.group("sep"), len(m.group("n")))
             for i in ids if (m := pat.match(i))]
    if not found:
        return TODO
    _, _, pre, sep, width = max(found)
    same_year = [x[1] for x in found if x[0] == year]
    nxt = max(same_year) + 1 if same_year else 1
    return f"{pre}{year}{sep}{nxt:0{width}d} (가번호)"


def draft_report(description: str, tables: list[rec.Table], retriever: Any = None, flt: Any = None,
                 now: datetime | None = None) -> Draft:
    from dasan.apps.field.answer import duty_items

    now = now or datetime.now()
    when = parse_when(description, now)
    table = max(tables, key=lambda t: len(t.rows)) if tables else None
    cols = table.columns if table else ["사고번호", "발생일시", "호선", "역", "장소", "사고유형", "원인", "피해", "조치",
                                        "재발방지대책", "보고여부"]
    fields = dict.fromkeys(cols, TODO)
    filled: list[str] = []
    notes: list[str] = []
    if table is None:
        notes.append("수집된 사고대장이 없어 일반 항목으로 초안을 만들었습니다.")
    dcol = table.date_column() if table else "발생일시"
    if when and dcol:
        fields[dcol] = when.strftime("%Y-%m-%d %H:%M")
        filled.append(dcol)
    elif dcol:
        notes.append("설명에 발생 시각이 없습니다. 발생일시를 넣어야 보고 기한을 계산할 수 있습니다.")
    if table is not None:
        idcol = table.columns[0]
        fields[idcol] = _next_id(table, idcol, when)
        q = rec.parse_question(description, table)
        for f in q.filters:
            if f.column in fields and f.op in ("=", "contains") and f.column not in filled:
                fields[f.column] = str(f.value)
                filled.append(f.column)
        kind_col = next((c for c in cols if "유형" in c or "종류" in c), None)
        if kind_col and kind_col not in filled:
            # several types share the description's words ("화재 … 부상"): the one the most similar
            # past records have; none named: the most similar record's, if it matched a field
            named = next((f.value for f in q.filters if f.column == kind_col and f.op == "in"), ())
            for it in rec.similar(description, table, 10):
                value = it.record.fields.get(kind_col, "")
                if value and (value in named or (not named and any(r != "같은 계절" for r in it.reasons))):
                    fields[kind_col] = value + " (비슷한 기록 기준, 확인 필요)"
                    break
    inc = dt.Incident.of(description)
    harm_col = next((c for c in cols if "피해" in c), None)
    if harm_col:
        parts = [f"사망 {inc.deaths}명"] * bool(inc.deaths) + [f"부상 {inc.injured}명"] * bool(inc.injured)
        if parts:
            fields[harm_col] = ", ".join(parts) + " (설명 기준)"
            filled.append(harm_col)
    duties_out: list[dict[str, Any]] = []
    if retriever is not None:
        report_col = next((c for c in cols if "보고" in c), None)
        for d in duty_items(inc, retriever, flt):
            duty = next(x for x in dt.DUTIES if x.name == d.name)
            duties_out.append({"name": d.name, "applies": d.applies, "why": d.why, "to": d.to,
                               "due": dt.due_of(duty, when), "deadline_words": duty.deadline, "items": d.items,
                               "note": d.note, "sources": [s.as_dict() for s in d.sources]})
            if d.note and d.note not in notes:
                notes.append(d.note)
            if report_col and d.applies == "해당" and fields[report_col] == TODO:
                fields[report_col] = f"{d.to} 보고 대상"
        if not duties_out:
            notes.append("이 설명으로는 법령상 보고 의무를 판단할 근거 조문을 찾지 못했습니다 (법령이 수집되었는지 확인).")
    return Draft(description, table.title if table else None, fields, filled, duties_out, notes)
