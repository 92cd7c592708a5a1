"""Labelled Korean PII test set and detector metrics (``dasan bench pii``).

Each generated document mixes sentences that carry personal data (the gold labels) with hard
negatives: dates, statute references, amounts, call-centre numbers, order and document
numbers, identifier-shaped numbers with impossible dates or failing check digits, phone-like
cells in tables, model codes and the 담당자 contact lines of press releases (which are only
negatives when the document is scanned with ``press_release=True``).

A prediction matches a gold item of the same kind whose span it overlaps (one-to-one).
``checksummed_recall`` counts only gold 주민/외국인/사업자/법인 numbers whose check digit passes.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from dasan.bench import pii_data as G
from dasan.security.pii import CHECKSUMMED, KINDS, Finding, detect
from dasan.security.pii_rules import (
    business_checksum_ok,
    corporate_checksum_ok,
    foreigner_checksum_ok,
    rrn_checksum_ok,
)


@dataclass
class Gold:
    kind: str
    start: int
    end: int
    checksum_ok: bool = False


@dataclass
class Sample:
    text: str
    press_release: bool = False
    gold: list[Gold] = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.gold: list[Gold] = []

    def add(self, *items: str | tuple[str, str]) -> None:
        """Plain strings are text; ``(kind, value)`` tuples are labelled values."""
        for it in items:
            if isinstance(it, tuple):
                kind, value = it
                self.gold.append(Gold(kind, self.pos, self.pos + len(value), _checksum_ok(kind, value)))
                it = value
            self.parts.append(it)
            self.pos += len(it)

    def text(self) -> str:
        return "".join(self.parts)


def _checksum_ok(kind: str, value: str) -> bool:
    check = {"rrn": rrn_checksum_ok, "foreigner_rn": foreigner_checksum_ok,
             "business_no": business_checksum_ok, "corporate_no": corporate_checksum_ok}.get(kind)
    return bool(check and check(value))


Sentence = Callable[[random.Random, _Builder], None]


# --------------------------------------------------------------------------- positives
def _s_rrn(r: random.Random, b: _Builder) -> None:
    n = G.name(r)
    recent = r.random() < 0.15
    v = G.rrn(r, recent=recent, sep=r.choice(["-", "-", "-", ""]) if not recent else "-")
    form = r.randrange(5)
    if form == 0:
        b.add(f"신청인 {n}(주민등록번호 ", ("rrn", v), ")은 다음과 같이 신청합니다.")
    elif form == 1:
        b.add(f"{n} | ", ("rrn", v), f" | {r.choice(['서울', '부산', '대전'])} | 대상")
    elif form == 2:
        b.add("주민번호: ", ("rrn", v), f"  성명: {n}")
    elif form == 3:
        b.add(f"피해자 {n} 씨(", ("rrn", v), ")의 진술에 따르면 사고는 야간에 발생하였다.")
    else:
        spaced = v if "-" not in v else v.replace("-", r.choice([" - ", " -", "- ", " "]))
        b.add("주민등록번호 : ", ("rrn", spaced), r.choice([" (본인 확인)", "", ", 세대주"]))


def _s_foreigner(r: random.Random, b: _Builder) -> None:
    v = G.rrn(r, foreign=True, sep="-")
    b.add(r.choice(["외국인등록번호 ", "등록번호(외국인): ", "체류자 "]), ("foreigner_rn", v), " 확인 완료.")


def _s_business(r: random.Random, b: _Builder) -> None:
    v = G.business_no(r)
    if r.random() < 0.6:
        b.add(f"{r.choice(['상호', '업체명'])}: (주){G.name(r)}상사, 사업자등록번호 ", ("business_no", v), ".")
    else:
        b.add(f"계약 상대방 (주)다산건설({r.choice(['등록번호 ', ''])}", ("business_no", v), ")과 체결한 계약")


def _s_corporate(r: random.Random, b: _Builder) -> None:
    b.add("법인등록번호 ", ("corporate_no", G.corporate_no(r)), f", 대표자 {G.name(r)}")


def _s_contact(r: random.Random, b: _Builder) -> None:
    b.add(f"민원인 {G.name(r)}의 연락처는 ", ("phone", G.phone(r)), "이며 전자우편은 ", ("email", G.email(r)), "이다.")


def _s_phone_table(r: random.Random, b: _Builder) -> None:
    if r.random() < 0.5:
        b.add(f"| {G.name(r)} | {r.randrange(20, 70)}세 | ", ("phone", G.phone(r)), " | 참석 |")
    else:
        b.add(f"{r.choice(['☎ ', 'Tel. ', 'H.P ', '휴대전화: '])}", ("phone", G.phone(r)), f" ({G.name(r)})")


def _s_citizen_press(r: random.Random, b: _Builder) -> None:
    """A private person's phone inside a release body: still personal data."""
    b.add(f"○ 피해 신고는 제보자 {G.name(r)} 씨(", ("phone", f"010-{r.randrange(1000, 9999)}-{r.randrange(1000, 9999)}"),
          ")를 통해 처음 접수되었다.")


def _s_bank(r: random.Random, b: _Builder) -> None:
    bank, acct = G.bank_account(r)
    if r.random() < 0.5:
        b.add(f"지원금은 {bank} ", ("bank_account", acct), f"(예금주 {G.name(r)})으로 입금됩니다.")
    else:
        b.add("입금 계좌: ", ("bank_account", acct), f" ({bank}, 예금주 {G.name(r)})")


def _s_address(r: random.Random, b: _Builder) -> None:
    b.add(r.choice(["주소: ", f"{G.name(r)}의 주소는 ", "거주지 "]), ("address", G.address(r)), r.choice(["", "이다.", " (자택)"]))


def _s_passport(r: random.Random, b: _Builder) -> None:
    old = r.random() < 0.3
    b.add("여권번호 ", ("passport", G.passport(r, old=old)), f" (성명 {G.name(r)})")


def _s_license(r: random.Random, b: _Builder) -> None:
    b.add("운전면허번호 ", ("driver_license", G.driver_license(r, named=r.random() < 0.3)), " 소지자")


POSITIVES: tuple[tuple[Sentence, float], ...] = (
    (_s_rrn, 3), (_s_foreigner, 1), (_s_business, 2), (_s_corporate, 1), (_s_contact, 2), (_s_phone_table, 1),
    (_s_bank, 1), (_s_address, 1.5), (_s_passport, 0.7), (_s_license, 0.7), (_s_citizen_press, 0.3),
)


# --------------------------------------------------------------------------- hard negatives
def _n_law(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        f"철도안전법 시행령 제60조의{r.randrange(2, 9)} 제{r.randrange(1, 5)}항에 따라 <개정 20{r.randrange(10, 25)}.{r.randrange(1, 13)}.{r.randrange(1, 29)}>",
        f"제{r.randrange(1, 99)}조제{r.randrange(1, 5)}항제{r.randrange(1, 9)}호의 기준은 별표 {r.randrange(1, 9)}의2와 같다.",
        f"법률 제{r.randrange(10000, 20999)}호, 20{r.randrange(10, 25)}. {r.randrange(1, 13)}. {r.randrange(1, 29)}. 일부개정",
        f"대통령령 제{r.randrange(30000, 35999)}호(20{r.randrange(10, 25)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d} 시행)",
    ]))


def _n_amount(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        f"총 사업비는 {r.randrange(1, 999):,}억 {r.randrange(1, 9)}천만원이며 국비 {r.randrange(10**9, 10**11):,}원을 포함한다.",
        f"은행 대출 잔액은 {r.randrange(10**9, 10**12):,}원으로 전년 대비 {r.randrange(1, 30)}.{r.randrange(10)}% 증가하였다.",
        f"계좌 이체 건수는 {r.randrange(10**6, 10**9):,}건, 금액은 {r.randrange(10**10, 10**13)}원이다.",
        f"5천만원 이하 과태료, 지원 인원 {r.randrange(1000, 99999):,}명",
    ]))


def _n_codes(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        f"주문번호 {G.rrn(r, sep='-')} 배송 완료",
        f"접수번호 {r.randrange(2020, 2026)}-{r.randrange(100000, 999999)} 처리",
        f"문서번호 {G.business_no(r, valid=False)}",
        f"관리번호 {r.randrange(10**12, 10**13)} 참조",
        f"공고 제{r.randrange(2020, 2026)}-{r.randrange(1, 999)}호, 고객센터 1588-{r.randrange(1000, 9999)}",
        f"콜센터 15{r.randrange(44, 99)}-{r.randrange(1000, 9999)}, 수신자부담 080-{r.randrange(200, 999)}-{r.randrange(1000, 9999)}",
        f"모델명 {G.passport(r)} 규격품",
        f"상품 바코드 {_ean(r)}",
        f"ISBN 979-11-{r.randrange(1000, 9999)}-{r.randrange(100, 999)}-{r.randrange(10)}",
        f"서버 주소 192.168.{r.randrange(256)}.{r.randrange(256)}, 운영시간 09:00-18:00",
        f"번호 {G.rrn_bad_date(r)} 오기",
        f"일련번호 {G.business_no(r, valid=False)} 및 {G.corporate_no(r, valid=False).replace('-', '')}",
    ]))


def _ean(r: random.Random) -> str:
    d12 = "880" + "".join(str(r.randrange(10)) for _ in range(9))
    s = sum(int(x) * (1 if i % 2 == 0 else 3) for i, x in enumerate(d12))
    return d12 + str((10 - s % 10) % 10)


def _n_table(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        f"| {r.randrange(2015, 2026)} | {r.randrange(10, 99)}-{r.randrange(100, 999)} | {r.randrange(1000, 9999):,} | {r.randrange(1, 99)}.{r.randrange(10)}% |",
        f"| 031 | {r.randrange(1000, 9999)} | {r.randrange(1000, 9999)} | 합계 |",
        f"| 구간 {r.randrange(1, 9)}-{r.randrange(10, 99)} | 0{r.choice('5689')}-{r.randrange(1000, 9999)}-{r.randrange(1000, 9999)} | 비고 |",
        f"측정값 {r.randrange(10)}.{r.randrange(100)}-{r.randrange(10)}.{r.randrange(100)} / 기간 {r.randrange(2020, 2026)}-01-01~{r.randrange(2020, 2026)}-12-31",
    ]))


def _n_prose(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        "상시 근로자수가 1,000명 이상인 사업장은 안전관리자를 두어야 한다.",
        "시장ㆍ군수ㆍ구청장은 대통령령으로 정하는 바에 따라 계획을 수립한다.",
        f"서울시 방식으로 {r.randrange(2, 9)}년간 시범 운영한다.",
        "국토교통부장관은 철도안전 종합계획을 5년마다 수립하여야 한다.",
        f"{r.randrange(2020, 2026)}년 {r.randrange(1, 13)}월 {r.randrange(1, 29)}일부터 시행한다.",
    ]))


def _n_misc(r: random.Random, b: _Builder) -> None:
    b.add(r.choice([
        f"차량 {r.randrange(10, 999)}{r.choice('가나다라마거너더러머')} {r.randrange(1000, 9999)} 운행, 사건번호 20{r.randrange(15, 26)}가합{r.randrange(1000, 99999)}",
        f"운영시간 {r.randrange(7, 11):02d}:00-{r.randrange(17, 22)}:00, 점심 12:00~13:00, (우) {r.randrange(10000, 63999)}",
        f"좌표 37.{r.randrange(10**6)}, 127.{r.randrange(10**6)}, 버전 v{r.randrange(1, 9)}.{r.randrange(10)}.{r.randrange(10)}",
        f"인구 {r.randrange(10**6, 10**7):,}명, 010 가입자 {r.randrange(1000, 6000)}만 명, 증가율 {r.randrange(1, 9)}.{r.randrange(10)}%",
        f"기간: 20{r.randrange(20, 26)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d} ~ 20{r.randrange(20, 26)}.{r.randrange(1, 13):02d}.{r.randrange(1, 29):02d}.",
        f"제품 S/N {r.randrange(2020, 2026)}-{r.randrange(1000, 9999)}-{r.randrange(100000, 999999)}, 수량 {r.randrange(1, 9)},{r.randrange(100, 999)}-{r.randrange(1, 9)},{r.randrange(100, 999)}개",
        f"세종특별자치시 소재 {r.randrange(2, 30)}개 기관, 서울시 {r.randrange(2, 25)}개 구에서 {r.randrange(2, 9)}년간 추진",
    ]))


NEGATIVES: tuple[tuple[Sentence, float], ...] = (
    (_n_law, 2), (_n_amount, 1.5), (_n_codes, 3), (_n_table, 1.5), (_n_prose, 2), (_n_misc, 2),
)


def _press(r: random.Random, b: _Builder) -> None:
    """A 보도자료 skeleton whose contact lines carry officials' work phones (not findings)."""
    dept = r.choice(["철도안전정책과", "청년정책과", "지진방재정책과", "산업안전기준과"])
    b.add(f"보도자료 | {r.choice(['국토교통부', '행정안전부', '고용노동부'])}\n")
    b.add(f"보도시점: 2026. {r.randrange(1, 13)}. {r.randrange(1, 29)}.(화) 11:00 이후 | 배포: 2026. 6. 23.(화)\n")
    b.add(f"□ 정부는 {r.randrange(2, 9)}천억원 규모의 지원 사업을 추진한다고 밝혔다.\n")
    b.add(f"담당 부서 | 철도국 {dept} | 책임자 | 과장 {G.name(r)} | (044-201-{r.randrange(1000, 9999)})\n")
    b.add(f"| | | 담당자 | 사무관 {G.name(r)} | (044-201-{r.randrange(1000, 9999)})\n")
    if r.random() < 0.5:
        b.add(f"| | | 담당자 | 주무관 {G.name(r)} | 02-2100-{r.randrange(1000, 9999)} | {G.email(r)}\n")
    b.add(f"이 보도자료와 관련하여 자세한 내용은 {dept} {G.name(r)} 주무관(☎ 044-205-{r.randrange(1000, 9999)})에게 문의하시기 바랍니다.\n")


def _pick(r: random.Random, table: tuple[tuple[Sentence, float], ...]) -> Sentence:
    return r.choices([f for f, _ in table], weights=[w for _, w in table])[0]


def generate(n: int = 500, seed: int = 0) -> list[Sample]:
    """``n`` labelled documents (one in five is a press release)."""
    r = random.Random(seed)
    out: list[Sample] = []
    for _ in range(n):
        b = _Builder()
        press = r.random() < 0.2
        if press:
            _press(r, b)
        for _ in range(r.randrange(3, 9)):
            _pick(r, POSITIVES if r.random() < 0.45 else NEGATIVES)(r, b)
            b.add(r.choice([" ", "\n", "\n", "\t"]))
        out.append(Sample(b.text(), press, b.gold))
    return out


# --------------------------------------------------------------------------- metrics
def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def evaluate(samples: list[Sample], detector: Callable[..., list[Finding]] = detect) -> dict[str, Any]:
    tp = dict.fromkeys(KINDS, 0)
    fp = dict.fromkeys(KINDS, 0)
    fn = dict.fromkeys(KINDS, 0)
    ck_total = ck_hit = 0
    errors: list[dict[str, Any]] = []
    chars, t0 = 0, time.perf_counter()
    for s in samples:
        pred = detector(s.text, press_release=s.press_release)
        chars += len(s.text.encode("utf-8"))
        used: set[int] = set()
        for p in pred:
            hit = next((i for i, g in enumerate(s.gold) if i not in used and g.kind == p.kind
                        and p.start < g.end and g.start < p.end), None)
            if hit is None:
                fp[p.kind] += 1
                if len(errors) < 40:
                    errors.append({"type": "fp", "kind": p.kind, "text": p.text,
                                   "context": s.text[max(0, p.start - 25):p.end + 10]})
            else:
                used.add(hit)
                tp[p.kind] += 1
        for i, g in enumerate(s.gold):
            checked = g.kind in CHECKSUMMED and g.checksum_ok
            ck_total += checked
            if i in used:
                ck_hit += checked
            else:
                fn[g.kind] += 1
                if len(errors) < 40:
                    errors.append({"type": "fn", "kind": g.kind, "text": s.text[g.start:g.end],
                                   "context": s.text[max(0, g.start - 25):g.end + 10]})
    secs = time.perf_counter() - t0
    per_kind = {k: {"tp": tp[k], "fp": fp[k], "fn": fn[k], "precision": _ratio(tp[k], tp[k] + fp[k]),
                    "recall": _ratio(tp[k], tp[k] + fn[k])} for k in KINDS}
    ttp, tfp, tfn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "documents": len(samples), "gold": ttp + tfn, "per_kind": per_kind,
        "precision": _ratio(ttp, ttp + tfp), "recall": _ratio(ttp, ttp + tfn),
        "checksummed_recall": _ratio(ck_hit, ck_total), "checksummed_gold": ck_total,
        "bytes": chars, "seconds": round(secs, 3), "mb_per_s": round(chars / 1e6 / secs, 2) if secs else None,
        "errors": errors,
    }


def bench_pii(n: int = 500, seed: int = 0) -> dict[str, Any]:
    res = evaluate(generate(n, seed))
    res["seed"] = seed
    return res


@click.command("pii")
@click.option("--n", "n", default=1000, show_default=True, help="생성할 문서 수")
@click.option("--seed", default=0, show_default=True, help="난수 시드 (같은 시드 = 같은 데이터)")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
def pii_bench_cmd(n: int, seed: int, as_json: bool) -> None:
    """개인정보 탐지기의 정밀도·재현율을 생성된 정답 데이터로 측정합니다."""
    res = bench_pii(n, seed)
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
        return
    click.echo(f"문서 {res['documents']}개, 정답 {res['gold']}건, seed={seed}")
    click.echo(f"{'종류':<16}{'정밀도':>8}{'재현율':>8}{'TP':>6}{'FP':>5}{'FN':>5}")
    for k, m in res["per_kind"].items():
        p = "-" if m["precision"] is None else f"{m['precision']:.3f}"
        rc = "-" if m["recall"] is None else f"{m['recall']:.3f}"
        click.echo(f"{k:<16}{p:>8}{rc:>8}{m['tp']:>6}{m['fp']:>5}{m['fn']:>5}")
    click.echo(f"전체 정밀도 {res['precision']}, 재현율 {res['recall']}, "
               f"체크섬 식별번호 재현율 {res['checksummed_recall']} ({res['checksummed_gold']}건)")
    click.echo(f"처리 속도: {res['bytes']:,}바이트 {res['seconds']}초 ({res['mb_per_s']} MB/s)")
