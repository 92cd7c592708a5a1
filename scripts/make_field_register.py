"""Writes examples/field/한빛도시철도_사고대장_2021-2025.xlsx: a made-up operator's accident register.

Everything in it is invented for Dasan's examples (the operator 한빛도시철도, its stations, the
incidents): it has the shape of a real register — 사고번호, 발생일시, 호선, 역, 장소, 사고유형,
원인, 피해, 조치, 재발방지대책, 보고여부 — with seasonal patterns (heat in summer, ice and
crowds in winter, festival crowds in autumn) so that similar-incident search and counts have
something to find. Deterministic (seed 2025): re-running writes the same rows.

    .venv/bin/python scripts/make_field_register.py
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parent.parent / "examples" / "field" / "한빛도시철도_사고대장_2021-2025.xlsx"
LINES = {
    "1호선": ["한빛역", "중앙시장역", "시청앞역", "누리공원역", "가온역", "새솔역", "별빛역"],
    "2호선": ["가온역", "물빛광장역", "도담역", "나래역", "윤슬역", "이음역"],
    "3호선": ["별빛역", "솔밭역", "해오름역", "다온역", "시청앞역"],
    "4호선": ["한울역", "너울역", "마루역", "온새미역", "중앙시장역"],
}
# 사고유형: (장소들, 원인들, 피해들, 조치들, 대책들, 보고여부 가중치, 계절 가중치 월→배수)
TYPES: dict[str, dict] = {
    "승강장안전문 끼임": dict(
        places=["승강장"], weight=10,
        causes=["출입문 닫힘 중 승객이 뛰어들어 안전문과 전동차 사이에 끼임",
                "안전문 센서 오염으로 끼임 감지가 늦어짐", "휠체어 바퀴가 안전문 하단에 걸림"],
        harms=["승객 1명 경상(타박상)", "인명 피해 없음, 열차 지연 3분", "승객 1명 경상(손가락 염좌)"],
        acts=["안전문 수동 개방 후 승객 구조, 역무원 응급조치", "관제 보고 후 열차 정차, 안전문 재점검"],
        fixes=["안전문 센서 세척 주기 단축(주 1회→주 2회)", "혼잡 시간대 안전요원 배치",
               "출입문 닫힘 경고 방송 음량 상향"],
        report=[("내부 보고", 6), ("국토교통부 보고", 2)]),
    "출입문 끼임": dict(
        places=["전동차 내", "승강장"], weight=9,
        causes=["승객이 닫히는 출입문에 가방을 밀어 넣음", "출입문 고무 패킹 마모로 끼임 감지 불량"],
        harms=["인명 피해 없음, 열차 지연 4분", "승객 1명 경상"],
        acts=["기관사 출입문 재개방 후 출발", "차량기지 입고 후 출입문 점검"],
        fixes=["출입문 끼임 주의 안내 강화", "출입문 패킹 교체 주기 단축"],
        report=[("내부 보고", 8), ("해당 없음", 2)]),
    "에스컬레이터 넘어짐": dict(
        places=["에스컬레이터"], weight=11, months={1: 1.6, 2: 1.4, 12: 1.6},
        causes=["하행 에스컬레이터에서 승객이 걸어 내려가다 균형을 잃음",
                "젖은 신발 바닥이 디딤판에서 미끄러짐", "급정지 버튼 오작동으로 에스컬레이터 급정지"],
        harms=["승객 1명 중상(골절)", "승객 2명 경상", "승객 1명 경상(찰과상)"],
        acts=["비상정지 후 부상자 응급조치, 119 이송", "에스컬레이터 운행 중지 후 점검"],
        fixes=["에스컬레이터 두 줄 서기 안내 강화", "디딤판 미끄럼 방지 처리", "동절기 우산 비닐 비치"],
        report=[("내부 보고", 5), ("국토교통부 보고", 3)]),
    "승강장 발빠짐": dict(
        places=["승강장"], weight=5,
        causes=["곡선 승강장의 넓은 틈에 발이 빠짐", "휴대전화를 보며 승차하다 발이 빠짐"],
        harms=["승객 1명 경상(발목 염좌)", "인명 피해 없음"],
        acts=["열차 출발 중지 후 승객 구조", "역무원 응급조치"],
        fixes=["곡선 승강장 틈새 고무발판 설치", "발빠짐 주의 바닥 표지 보강"],
        report=[("내부 보고", 6), ("해당 없음", 1)]),
    "선로 무단진입": dict(
        places=["선로", "승강장"], weight=4,
        causes=["떨어뜨린 휴대전화를 주우려 승객이 선로에 내려감", "취객이 승강장 끝 안전문 틈으로 진입"],
        harms=["인명 피해 없음, 열차 지연 12분", "승객 1명 경상"],
        acts=["관제 열차 정지 지시, 역무원 구조", "전 열차 서행 후 운행 재개"],
        fixes=["승강장 끝 안전문 틈 폐쇄", "분실물 직원 호출 안내문 부착"],
        report=[("국토교통부 보고", 4), ("내부 보고", 2)]),
    "화재(연기)": dict(
        places=["전동차 내", "대합실", "변전실"], weight=3,
        causes=["전동차 냉방기 배선 과열로 연기 발생", "대합실 매점 전열기 과열", "변전실 케이블 절연 열화"],
        harms=["인명 피해 없음, 승객 대피", "승객 3명 연기 흡입(경상)"],
        acts=["승객 대피 유도, 소화기로 초기 진화, 119 신고", "급전 차단 후 소방 합동 점검"],
        fixes=["냉방기 배선 열화상 점검 월 1회", "대합실 전열기 사용 금지", "케이블 절연 진단 주기 단축"],
        report=[("국토교통부 즉시 보고", 5), ("국토교통부 보고", 1)]),
    "선로작업자 부상": dict(
        places=["선로"], weight=4,
        causes=["야간 레일 연마 중 불티가 보안경 미착용 작업자에게 튐", "레일 운반 중 신호가 맞지 않아 발등에 떨어짐",
                "작업차단 승인 전 선로에 들어감"],
        harms=["작업자 1명 경상", "작업자 1명 중상(골절)"],
        acts=["작업 중지, 응급처치 후 병원 이송", "작업 책임자 현장 조사"],
        fixes=["보호구 착용 점검표 작성 의무화", "중량물 운반 신호수 지정", "작업차단 승인 확인 절차 강화"],
        report=[("내부 보고", 3), ("고용노동부 보고", 2), ("국토교통부 보고", 1)]),
    "감전(준사고)": dict(
        places=["선로", "차량기지", "변전실"], weight=2,
        causes=["단전 확인 전 검전 절차를 생략하고 작업 착수", "접지 미설치 상태로 전차선 작업"],
        harms=["인명 피해 없음(준사고)", "작업자 1명 경상(전기 화상)"],
        acts=["작업 중지, 단전·접지 재확인", "안전관리자 현장 조사"],
        fixes=["검전·접지 2인 상호 확인", "작업 전 단전 확인서 서명"],
        report=[("내부 보고", 2), ("국토교통부 보고", 1)]),
    "인파 혼잡": dict(
        places=["승강장", "대합실", "출입구 계단"], weight=6, months={10: 2.5, 12: 2.5, 5: 1.3},
        causes=["축제 관람 인파로 승강장 혼잡도 '붐빔' 단계 도달", "연말 행사 종료 후 한꺼번에 몰린 인파",
                "열차 지연으로 승강장 대기 인원 급증"],
        harms=["승객 1명 넘어짐(경상)", "인명 피해 없음, 일시 무정차 통과", "승객 2명 경상"],
        acts=["무정차 통과, 출입구 일부 통제, 안전요원 증원", "임시열차 투입, 안내 방송"],
        fixes=["행사 일정 사전 공유 체계 구축", "혼잡도 단계별 대응 매뉴얼 개정", "출입구 일방향 동선 운영"],
        report=[("내부 보고", 4), ("국토교통부 보고", 2)]),
    "신호장애": dict(
        places=["선로", "신호기계실"], weight=5,
        causes=["궤도회로 불량으로 열차 위치 검지 실패", "폭우로 신호기계실 침수 우려, 장치 예방 정지",
                "선로전환기 동결로 전환 불량"],
        harms=["인명 피해 없음, 열차 지연 15분", "인명 피해 없음, 열차 지연 25분"],
        acts=["수동 운전 전환, 관제 통제", "선로전환기 해빙 작업 후 정상화"],
        fixes=["궤도회로 절연 점검 주기 단축", "신호기계실 차수판 설치", "선로전환기 히터 설치"],
        report=[("국토교통부 보고", 3), ("내부 보고", 3)]),
    "레일 온도 상승": dict(
        places=["선로"], weight=3, months={6: 3, 7: 5, 8: 5},
        causes=["폭염으로 레일 온도 60℃ 초과, 레일 장출 우려", "지상 구간 레일 온도 급상승"],
        harms=["인명 피해 없음, 서행 운전", "인명 피해 없음, 열차 지연 8분"],
        acts=["해당 구간 시속 30km 이하 서행, 살수 작업", "레일 온도 감시 강화"],
        fixes=["레일 온도 감시 장치 추가 설치", "폭염 특보 시 순회 점검 2배"],
        report=[("내부 보고", 5)]),
    "전력공급 장애": dict(
        places=["변전실", "선로"], weight=3,
        causes=["변전소 차단기 오동작으로 구간 급전 중단", "강풍에 날린 현수막이 전차선에 걸림"],
        harms=["인명 피해 없음, 열차 지연 20분", "승객 열차 내 고립 10분"],
        acts=["예비 급전 계통 전환", "현수막 제거 후 급전 재개"],
        fixes=["차단기 보호계전기 정밀 점검", "선로 주변 현수막 설치 금지 협조 요청"],
        report=[("국토교통부 보고", 3), ("내부 보고", 1)]),
}
REPORT_NOTE = "보고여부"


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w for w, _ in weighted], weights=[n for _, n in weighted])[0]


def rows(seed: int = 2025, n: int = 420) -> list[list[str]]:
    rng = random.Random(seed)
    start = datetime(2021, 1, 1)
    days = (datetime(2025, 12, 31) - start).days
    out = []
    for _ in range(n):
        when = start + timedelta(days=rng.randrange(days + 1), minutes=rng.randrange(5 * 60, 24 * 60 + 60))
        weights = [spec["weight"] * spec.get("months", {}).get(when.month, 1.0) for spec in TYPES.values()]
        kind = rng.choices(list(TYPES), weights=weights)[0]
        spec = TYPES[kind]
        line = rng.choice(list(LINES))
        station = rng.choice(LINES[line])
        place = rng.choice(spec["places"])
        if place == "차량기지":
            station = f"{line[0]}호선 차량기지"
        out.append([when.strftime("%Y-%m-%d %H:%M"), line, station, place, kind, rng.choice(spec["causes"]),
                    rng.choice(spec["harms"]), rng.choice(spec["acts"]), rng.choice(spec["fixes"]),
                    _pick(rng, spec["report"])])
    out.sort(key=lambda r: r[0])
    numbered = []
    per_year: dict[str, int] = {}
    for r in out:
        y = r[0][:4]
        per_year[y] = per_year.get(y, 0) + 1
        numbered.append([f"HB-{y}-{per_year[y]:04d}", *r])
    return numbered


def main() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "사고대장"
    ws.append(["사고번호", "발생일시", "호선", "역", "장소", "사고유형", "원인", "피해", "조치", "재발방지대책", REPORT_NOTE])
    for r in rows():
        ws.append(r)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.creator = "한빛도시철도 안전관리처 (가상)"
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 5, 9, 0)
    wb.save(OUT)
    print(f"{OUT}: {len(rows())} rows")


if __name__ == "__main__":
    main()
