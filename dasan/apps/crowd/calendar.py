"""Calendar effects for Korean crowd forecasts: 공휴일 (incl. 대체공휴일, 임시공휴일, 선거일),
명절 (설날·추석 and the days around them), school vacations, bridge days, and the operator's
event calendar."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from dasan.errors import ConfigError

#: Korean school vacations (approximate, nationwide): summer and winter/spring breaks as
#: (start month, start day, end month, end day); winter wraps over the new year.
DEFAULT_VACATIONS: tuple[tuple[int, int, int, int], ...] = ((7, 22, 8, 18), (12, 31, 2, 28))

HOLIDAY_NONE, HOLIDAY_REGULAR, HOLIDAY_MYEONGJEOL, HOLIDAY_SUBSTITUTE, HOLIDAY_SPECIAL = range(5)
KIND_NAMES = {HOLIDAY_REGULAR: "공휴일", HOLIDAY_MYEONGJEOL: "명절", HOLIDAY_SUBSTITUTE: "대체공휴일",
              HOLIDAY_SPECIAL: "임시공휴일·선거일"}


@lru_cache(maxsize=64)
def _kr_year(year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.KR(years=[year], language="ko").items())


def holiday_name(d: date) -> str | None:
    return _kr_year(d.year).get(d)


def holiday_kind(d: date) -> int:
    name = holiday_name(d)
    if not name:
        return HOLIDAY_NONE
    if "대체" in name:
        return HOLIDAY_SUBSTITUTE
    if "설날" in name or "추석" in name:
        return HOLIDAY_MYEONGJEOL
    if "임시" in name or "선거" in name:
        return HOLIDAY_SPECIAL
    return HOLIDAY_REGULAR


@lru_cache(maxsize=32)
def _myeongjeol_days(year: int) -> tuple[date, ...]:
    """The main days of 설날 and 추석 in ``year``."""
    return tuple(sorted(d for d, n in _kr_year(year).items() if n.split(";")[0].strip() in ("설날", "추석")))


def myeongjeol_offset(d: date, reach: int = 5) -> int | None:
    """Days from the nearest 설날/추석 main day (-reach..reach), else None."""
    best: int | None = None
    for y in (d.year - 1, d.year, d.year + 1):
        for m in _myeongjeol_days(y):
            off = (d - m).days
            if abs(off) <= reach and (best is None or abs(off) < abs(best)):
                best = off
    return best


def in_vacation(d: date, vacations: Iterable[tuple[int, int, int, int]] = DEFAULT_VACATIONS) -> bool:
    md = (d.month, d.day)
    for sm, sd, em, ed in vacations:
        start, end = (sm, sd), (em, ed)
        if start <= end:
            if start <= md <= end:
                return True
        elif md >= start or md <= end:
            return True
    return False


def is_off(d: date) -> bool:
    return d.weekday() >= 5 or holiday_name(d) is not None


def _distance(d: date, step: int, cap: int = 7) -> int:
    """Days to the next (step=1) or from the previous (step=-1) public holiday (weekends excluded)."""
    for k in range(1, cap + 1):
        if holiday_name(d + timedelta(days=step * k)):
            return k
    return cap + 1


def is_bridge(d: date) -> bool:
    """A working day squeezed between off days (샌드위치 휴일)."""
    if is_off(d):
        return False
    return is_off(d - timedelta(days=1)) and is_off(d + timedelta(days=1))


@dataclass(frozen=True)
class Event:
    place: str
    day: date
    name: str
    category: str = "행사"
    rise_pct: float | None = None  # expected rise over a normal day, in %

    def as_dict(self) -> dict[str, object]:
        return {"place": self.place, "date": self.day.isoformat(), "name": self.name, "category": self.category,
                "rise_pct": self.rise_pct}


@dataclass
class EventCalendar:
    """Known events per place (the operator's calendar plus ingested event history)."""

    events: list[Event] = field(default_factory=list)

    def on(self, place: str, d: date) -> list[Event]:
        return [e for e in self._index().get((place, d), [])]

    def _index(self) -> dict[tuple[str, date], list[Event]]:
        idx: dict[tuple[str, date], list[Event]] = {}
        for e in self.events:
            idx.setdefault((e.place, e.day), []).append(e)
        return idx

    def expected_rise(self, event: Event) -> float:
        """The event's rise in % — its own when the operator gave one, else the median rise of past
        events of the same category at the place, else of the category anywhere, else 0."""
        if event.rise_pct is not None:
            return event.rise_pct
        same = [e.rise_pct for e in self.events if e.rise_pct is not None and e.place == event.place
                and e.category == event.category and e.day < event.day]
        if not same:
            same = [e.rise_pct for e in self.events if e.rise_pct is not None and e.category == event.category
                    and e.day < event.day]
        if not same:
            return 0.0
        same.sort()
        return float(same[len(same) // 2])


def load_event_calendar(path: str | Path) -> list[Event]:
    """The operator's event calendar: CSV with ``place,date,name[,category][,rise_pct]``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"행사 일정 파일을 읽을 수 없습니다: {p} ({e.strerror}). 경로를 확인하세요.") from e
    rows = list(csv.DictReader(text.splitlines()))
    out: list[Event] = []
    for i, r in enumerate(rows, start=2):
        try:
            day = date.fromisoformat((r.get("date") or "").strip())
            place = (r.get("place") or "").strip()
            if not place:
                raise ValueError("place 없음")
            rise = (r.get("rise_pct") or "").strip()
            out.append(Event(place, day, (r.get("name") or "").strip() or "행사",
                             (r.get("category") or "").strip() or "행사", float(rise) if rise else None))
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{p}:{i}행: 행사 일정 행이 잘못되었습니다 ({e}). "
                              "place,date(YYYY-MM-DD),name,category,rise_pct 형식으로 고치세요.") from e
    return out


def describe_day(d: date, events: list[Event] | None = None) -> list[str]:
    """Korean phrases naming the calendar effects on ``d`` (for alert explanations)."""
    out = []
    name = holiday_name(d)
    if name:
        out.append(f"{name}({KIND_NAMES.get(holiday_kind(d), '공휴일')})")
    else:
        off = myeongjeol_offset(d, 3)
        if off is not None:
            out.append(f"명절 {'전' if off < 0 else '후'} {abs(off)}일")
    if is_bridge(d):
        out.append("징검다리 평일")
    if in_vacation(d):
        out.append("학교 방학")
    out.append("주말" if d.weekday() >= 5 else "평일")
    for e in events or []:
        out.append(f"행사: {e.name}({e.category})")
    return out
