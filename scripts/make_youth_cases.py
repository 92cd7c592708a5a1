"""Build youth-benefit bench cases (bench/youth_cases_dev.jsonl) from the shared 온통청년 catalogue.

The gold labels come from a small computation written here on its own, straight from the raw
CSV/JSON fields — it does NOT call dasan.apps.youth — so that the bench can catch engine errors:

* on the topic: the case's category is one of ``lclsfNm`` (comma-separated) and one of its
  keywords occurs in ``plcyNm``, ``plcyExplnCn``, ``plcySprtCn`` or ``plcyKywdNm``;
* the person conditions admit the profile when all of these hold:
  - age: 만 나이 on the reference date (birthday reached this year or not) within
    ``sprtTrgtMinAge``–``sprtTrgtMaxAge`` (no limit when ``sprtTrgtAgeLmtYn`` is "Y" and both are
    0; a 0 bound is open);
  - region: the profile's 시군구 code, renamed to its current code when abolished (강원도 42xxx ->
    강원특별자치도 51xxx, 전라북도 45xxx -> 전북특별자치도 52xxx, 경북 군위군 47720 -> 대구 27720,
    matched by name in sigungu.csv), or the code of its 시 (for a 구 of a 시), is in ``zipCd``;
  - job / school / marital: the profile's code, or the field's 제한없음 code, is in
    ``jobCd`` / ``schoolCd`` / ``mrgSttsCd``;
  - income: when ``earnCndSeCd`` is 0043002, earnMinAmt <= income <= earnMaxAmt in 만원 (a
    bound above 1,000,000 was entered in 원 and is divided by 10,000; a 0 bound is open);
* ``gold_eligible``: admitted and no free-text condition: ``addAplyQlfcCndCn`` and
  ``ptcpPrpTrgtCn`` empty or only "-", "없음", "제한없음", "해당없음", and no ``earnEtcCn`` under
  0043003; ``gold_needs_check``: admitted with such a text; ``gold_not_eligible_examples``: up to
  12 on-topic policies the person conditions exclude (near misses first: excluded by one
  condition only). Of two records with the same plcyNo (CSV and Seoul JSON) the one with the
  later ``lastMdfcnDt`` is used.
The 특화분야 (sbizCd) and 전공 (plcyMajorCd) codes are not person conditions of the bench
profile and are not looked at here (the engine, failing closed, reports them as 확인 필요).

The 342 Seoul records of 2024 have no 혼인 (mrgSttsCd) and 소득 (earnCndSeCd) codes in 289 of
them; read literally (the profile's code or 제한없음 must be listed) an empty field admits no one,
and that is how this script reads it (the engine says 확인 필요 for them: it cannot tell).

Usage: python scripts/make_youth_cases.py [--shared DIR] [--out FILE] [--n 60] [--seed 17] [--csv-only]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBS = {"재직자": "0013001", "자영업자": "0013002", "미취업자": "0013003", "프리랜서": "0013004",
        "일용근로자": "0013005", "(예비)창업자": "0013006", "단기근로자": "0013007", "영농종사자": "0013008"}
SCHOOLS = {"고교 졸업": "0049004", "대학 재학": "0049005", "대졸 예정": "0049006", "대학 졸업": "0049007",
           "석·박사": "0049008", "고교 재학": "0049002"}
MARITAL = {"미혼": "0055002", "기혼": "0055001"}
ANY = {"job": "0013010", "school": "0049010", "marital": "0055003"}
BLANK = {"", "-", "없음", "제한없음", "해당없음", "없음.", "제한 없음", "해당 없음", "."}
TOPICS = [("주거", ["월세"]), ("주거", ["전세"]), ("주거", ["보증금"]), ("주거", ["이사"]), ("주거", ["주택"]),
          ("일자리", ["면접"]), ("일자리", ["창업"]), ("일자리", ["인턴"]), ("일자리", ["자격증"]),
          ("일자리", ["취업"]), ("교육", ["자격증"]), ("교육", ["학자금"]), ("교육", ["교육비"]),
          ("복지문화", ["문화"]), ("복지문화", ["건강"]), ("복지문화", ["상담"]), ("복지문화", ["대출"]),
          ("참여권리", ["참여"]), ("일자리", ["장려금"]), ("교육", ["어학"]), ("복지문화", ["여행"]),
          ("주거", ["신혼"]), ("일자리", ["농업"]), ("복지문화", ["적금"])]
QUESTION_TOPIC = {"월세": "월세 지원", "전세": "전세 대출이나 지원", "보증금": "보증금 지원", "이사": "이사비 지원",
                  "주택": "주택 관련 지원", "면접": "면접 정장이나 면접 지원", "창업": "창업 지원", "인턴": "인턴 자리",
                  "자격증": "자격증 응시료 지원", "취업": "취업 지원", "학자금": "학자금 지원", "교육비": "교육비 지원",
                  "문화": "문화 혜택", "건강": "건강 관련 지원", "상담": "상담 받을 수 있는 곳", "대출": "대출 지원",
                  "참여": "청년 참여 활동", "장려금": "장려금", "어학": "어학 공부 지원", "여행": "여행 지원",
                  "신혼": "신혼부부 주거 지원", "농업": "농업 관련 지원", "적금": "적금이나 자산형성 지원"}


def read_rows(shared: Path, with_seoul: bool = True) -> list[dict[str, str]]:
    csv.field_size_limit(10**9)
    d = shared / "data" / "youth-policy"
    with (d / "ontong_policies_2025.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = {r["plcyNo"]: r for r in csv.DictReader(f)}
    seoul = json.loads((d / "seoul_policies_2024.json").read_text(encoding="utf-8")) if with_seoul else []
    for r in seoul:
        r = {k: str(v) for k, v in r.items()}
        if r["plcyNo"] not in rows or r["lastMdfcnDt"] >= rows[r["plcyNo"]]["lastMdfcnDt"]:
            rows[r["plcyNo"]] = r  # the record modified last wins
    return list(rows.values())


def read_areas(shared: Path) -> tuple[dict[str, tuple[str, str, bool]], dict[str, str], dict[str, str]]:
    d = shared / "data" / "youth-policy"
    areas = {}
    with (d / "sigungu.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            areas[r["code5"]] = (r["sido"], r["sigungu"], r["status"] == "현존")
    live = {(s, n): c for c, (s, n, cur) in areas.items() if cur}
    renamed = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도", "제주도": "제주특별자치도"}
    new_code = {}
    for c, (s, n, cur) in areas.items():
        if not cur and (renamed.get(s), n) in live:
            new_code[c] = live[(renamed[s], n)]
    new_code["47720"] = live[("대구광역시", "군위군")]
    city = {}
    for c, (s, n, cur) in areas.items():
        if cur and " " in n and (s, n.split(" ")[0]) in live:
            city[c] = live[(s, n.split(" ")[0])]
    return areas, new_code, city


def age_on(birth: date, on: date) -> int:
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


def manwon(v: str) -> int:
    n = int(v or 0)
    return n // 10000 if n > 1_000_000 else n


def excluded_by(r: dict[str, str], prof: dict, on: date, new_code: dict, city: dict) -> list[str]:
    """The person conditions that exclude the profile (empty = admitted)."""
    out = []
    lo, hi = int(r["sprtTrgtMinAge"] or 0), int(r["sprtTrgtMaxAge"] or 0)
    if not (r["sprtTrgtAgeLmtYn"] == "Y" and lo == 0 and hi == 0):
        a = age_on(date.fromisoformat(prof["birth_date"]), on)
        if (lo and a < lo) or (hi and a > hi):
            out.append("age")
    zips = set(r["zipCd"].split(","))
    code = new_code.get(prof["sigungu_code"], prof["sigungu_code"])
    if code not in zips and city.get(code) not in zips and code[:2] + "000" not in zips:
        out.append("region")
    for field, key, table in (("jobCd", "job", JOBS), ("schoolCd", "school", SCHOOLS), ("mrgSttsCd", "marital", MARITAL)):
        allowed = set(r[field].split(","))
        if ANY[key] not in allowed and table[prof[key]] not in allowed:
            out.append(key)
    if r["earnCndSeCd"] == "0043002":
        lo_i, hi_i = manwon(r["earnMinAmt"]), manwon(r["earnMaxAmt"])
        inc = prof["income_manwon"]
        if (lo_i and inc < lo_i) or (hi_i and inc > hi_i):
            out.append("income")
    return out


def has_free_text(r: dict[str, str]) -> bool:
    def real(t: str) -> bool:
        return re.sub(r"\s+", " ", t or "").strip() not in BLANK
    return real(r["addAplyQlfcCndCn"]) or real(r["ptcpPrpTrgtCn"]) or (r["earnCndSeCd"] == "0043003" and real(r["earnEtcCn"]))


def topic_of(r: dict[str, str], category: str, keywords: list[str]) -> bool:
    if category not in [c.strip() for c in r["lclsfNm"].split(",")]:
        return False
    blob = " ".join(r[f] for f in ("plcyNm", "plcyExplnCn", "plcySprtCn", "plcyKywdNm"))
    return any(k in blob for k in keywords)


def random_profile(rng: random.Random, areas: dict, on: date) -> dict:
    # Regions: mostly places with many local policies; old 강원/전북/군위 codes on purpose.
    old = [c for c, (s, _n, cur) in areas.items() if not cur and s in ("강원도", "전라북도") and c[2:] >= "110"]
    live = [c for c, (_s, n, cur) in areas.items() if cur and n]
    pick = rng.random()
    if pick < 0.2:
        code = rng.choice(old)
    elif pick < 0.25:
        code = "47720"
    elif pick < 0.55:
        code = rng.choice([c for c in live if c.startswith("11")])
    else:
        code = rng.choice(live)
    # Ages: boundaries (the day before / the day of a birthday that crosses 19, 35, 40) or plain.
    kind = rng.random()
    if kind < 0.4:
        turning = rng.choice([19, 35, 40, 46, 50])
        shift = rng.choice([0, 1])  # 0: birthday today (just turned), 1: birthday tomorrow
        y, m, d = on.year - turning, on.month, on.day
        b = date(y, m, d)
        if shift:
            b = date.fromordinal(b.toordinal() + 1)
    else:
        b = date(on.year - rng.randint(18, 42), rng.randint(1, 12), rng.randint(1, 28))
    sido, name, _ = areas[code]
    job = rng.choice(list(JOBS)[:7] if rng.random() < 0.9 else list(JOBS))
    if rng.random() < 0.45:
        job = "미취업자"
    school = rng.choice(list(SCHOOLS))
    income = rng.choice([0, 0, 1200, 2400, 3000, 3500, 4000, 4500, 5000, 6000, 7000, 7500, 8000, 9000])
    return {"birth_date": b.isoformat(), "sigungu_code": code, "sigungu_name": f"{sido} {name}".strip(),
            "job": job, "school": school, "marital": rng.choice(["미혼", "미혼", "미혼", "기혼"]),
            "income_manwon": income}


def build(shared: Path, n: int, seed: int, with_seoul: bool = True) -> list[dict]:
    rows = read_rows(shared, with_seoul)
    areas, new_code, city = read_areas(shared)
    rng = random.Random(seed)
    dates = [date(2025, 9, 1), date(2025, 3, 15), date(2025, 6, 30), date(2025, 11, 20)]
    cases, seen_topics = [], {}
    tries = 0
    while len(cases) < n and tries < 20000:
        tries += 1
        on = rng.choice(dates)
        prof = random_profile(rng, areas, on)
        category, keywords = rng.choice(TOPICS)
        if seen_topics.get((category, keywords[0]), 0) >= max(3, n // len(TOPICS) + 1):
            continue
        topic = [r for r in rows if topic_of(r, category, keywords)]
        elig, check, nots = [], [], []
        for r in topic:
            why = excluded_by(r, prof, on, new_code, city)
            if why:
                nots.append((len(why), r["plcyNo"]))
            elif has_free_text(r):
                check.append(r["plcyNo"])
            else:
                elig.append(r["plcyNo"])
        if not (1 <= len(elig) <= 20) or not nots:
            continue
        nots.sort()
        age = age_on(date.fromisoformat(prof["birth_date"]), on)
        place = prof["sigungu_name"].split(" ")[-1] or prof["sigungu_name"]
        cases.append({
            "id": f"dev-{len(cases) + 1:03d}", "profile": prof, "reference_date": on.isoformat(),
            "question": f"{place} 사는 {age}살 {prof['job']}인데 {QUESTION_TOPIC[keywords[0]]} 있어요?",
            "category": category, "keywords": keywords,
            "gold_eligible": sorted(elig), "gold_needs_check": sorted(check),
            "gold_not_eligible_examples": [p for _, p in nots[:12]],
        })
        seen_topics[(category, keywords[0])] = seen_topics.get((category, keywords[0]), 0) + 1
    return cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "youth_cases_dev.jsonl"))
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--csv-only", action="store_true",
                    help="only ontong_policies_2025.csv (bench with that one --catalogue file)")
    a = ap.parse_args()
    cases = build(Path(a.shared), a.n, a.seed, with_seoul=not a.csv_only)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
