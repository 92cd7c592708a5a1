"""PII detection, masking, policies, the labelled benchmark and ``dasan pii scan``."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.pii import evaluate, generate, pii_bench_cmd
from dasan.errors import DasanError
from dasan.security import pii_rules as R
from dasan.security.pii import Finding, PiiBlockedError, PiiPolicy, apply_policy, detect, mask
from dasan.security.pii_cli import pii, scan_document
from dasan.types import Block, Document


def kinds(text: str, **kw: bool) -> list[tuple[str, str, bool]]:
    return [(f.kind, f.text, f.verified) for f in detect(text, **kw)]


# --------------------------------------------------------------------------- check digits
def test_business_check_digit_domain_examples() -> None:
    assert R.business_checksum_ok("116-82-00276")
    assert R.business_checksum_ok("134-86-72683")
    assert R.business_checksum_ok("124-81-00998")
    assert not R.business_checksum_ok("116-82-00277")
    assert not R.business_checksum_ok("134-86-7268")  # wrong length


def test_rrn_foreigner_corporate_check_digits() -> None:
    # Σ(9,0,0,1,0,1,1,2,3,4,5,6 · 2,3,4,5,6,7,8,9,2,3,4,5) = 124; (11 - 124 % 11) % 10 = 8
    assert R.rrn_checksum_ok("900101-1234568")
    assert not R.rrn_checksum_ok("900101-1234567")
    # same layout, G=5: Σ = 156; (13 - 156 % 11) % 10 = 1
    assert R.foreigner_checksum_ok("900101-5234561")
    assert not R.rrn_checksum_ok("900101-5234561")
    # 법인등록번호 weights 1,2,…: 130111-0006246 (a listed company) passes, a changed digit fails
    assert R.corporate_checksum_ok("130111-0006246")
    assert not R.corporate_checksum_ok("130111-0006247")
    assert R.rrn_birthdate("900101-1234568").isoformat() == "1990-01-01"
    assert R.rrn_birthdate("050229-3234567") is None  # 2005 is not a leap year
    assert R.rrn_birthdate("000229-3234567").isoformat() == "2000-02-29"


# --------------------------------------------------------------------------- detectors
def test_rrn_verified_unverified_and_rejected() -> None:
    assert kinds("주민등록번호 900101-1234568") == [("rrn", "900101-1234568", True)]
    assert kinds("9001011234568 확인") == [("rrn", "9001011234568", True)]  # bare, checksum passes
    # issued after October 2020: random tail, still an RRN (unverified) when hyphenated
    assert kinds("아동 211015-3123456") == [("rrn", "211015-3123456", False)]
    assert kinds("주민번호 9001011234567") == [("rrn", "9001011234567", False)]  # labelled
    assert kinds("9001011234567") == []  # bare, failing, unlabelled: just a number
    assert kinds("번호 901301-1234567") == []  # month 13
    assert kinds("주문번호 900101-1234568 배송") == []  # labelled as an order number
    assert kinds("주민등록번호 900101 - 1234568")[0][:2] == ("rrn", "900101 - 1234568")
    assert kinds("900101-12345689") == []  # 14 digits
    assert kinds("8801234567893") == []  # an EAN-13 barcode (880 = Korea)


def test_foreigner_and_corporate() -> None:
    assert kinds("외국인등록번호 900101-5234561") == [("foreigner_rn", "900101-5234561", True)]
    assert kinds("법인등록번호 130111-0006246") == [("corporate_no", "130111-0006246", True)]
    assert kinds("(주)다산 130111-0006246") == [("corporate_no", "130111-0006246", True)]
    assert kinds("법인등록번호: 130111-0006247") == [("corporate_no", "130111-0006247", False)]


def test_business_numbers() -> None:
    assert kinds("사업자등록번호 116-82-00276") == [("business_no", "116-82-00276", True)]
    assert kinds("(주)다산(134-86-72683)과 계약") == [("business_no", "134-86-72683", True)]
    assert kinds("사업자번호 1168200276") == [("business_no", "1168200276", True)]
    assert kinds("사업자등록번호 116-82-00277") == [("business_no", "116-82-00277", False)]
    assert kinds("문서번호 116-82-00277") == []  # failing check digit, not labelled
    assert kinds("문서번호 116-82-00276") == []  # labelled as something else
    assert kinds("1168200276") == []  # 10 bare digits need the label


def test_passport_and_driver_license() -> None:
    assert kinds("여권번호 M123A4567") == [("passport", "M123A4567", False)]
    assert kinds("여권 번호는 M12345678 입니다") == [("passport", "M12345678", False)]
    assert kinds("M12345678") == []  # the old form needs the word 여권
    assert kinds("모델명 M123A4567 규격품") == []
    assert kinds("XM123A4567") == []
    assert kinds("운전면허 11-12-345678-90") == [("driver_license", "11-12-345678-90", False)]
    assert kinds("면허 서울 12-345678-90") == [("driver_license", "서울 12-345678-90", False)]
    assert kinds("27-12-345678-90") == []  # 27 is not a region code
    assert kinds("111-12-345678-90") == []


@pytest.mark.parametrize("phone", [
    "010-1234-5678", "010.1234.5678", "010 1234 5678", "01012345678", "+82-10-1234-5678", "+82 10 1234 5678",
    "02-123-4567", "02-1234-5678", "(02) 123-4567", "02)123-4567", "031-123-4567", "044-201-3938", "070-1234-5678",
])
def test_phone_positive(phone: str) -> None:
    assert kinds(f"연락처: {phone}이며") == [("phone", phone, False)]


@pytest.mark.parametrize("text", [
    "1588-1234", "1577-0000", "080-123-4567", "2024-01-01", "2024.01.01", "05-1234-5678", "0101234567",
    "010-1234-56789", "12,010-1234", "제60조의6 제1항", "5천만원", "09:00-18:00", "192.168.0.1", "1010-1234-5678",
])
def test_phone_negative(text: str) -> None:
    assert kinds(f"번호 {text} 참고") == []


def test_email() -> None:
    assert kinds("문의: hong.gd@example.go.kr로 보내") == [("email", "hong.gd@example.go.kr", False)]
    assert kinds("a_b+c@sub.mail.co.kr") == [("email", "a_b+c@sub.mail.co.kr", False)]
    assert kinds("@dasan 트위터, user@localhost, x@1.2") == []


def test_bank_accounts_need_context() -> None:
    assert kinds("국민은행 123456-01-234567 (예금주 홍길동)") == [("bank_account", "123456-01-234567", False)]
    assert kinds("입금 계좌: 3021234567891") == [("bank_account", "3021234567891", False)]
    assert kinds("302-1234-5678-91 (농협)") == [("bank_account", "302-1234-5678-91", False)]
    assert kinds("123456-01-234567") == []
    assert kinds("은행 대출 잔액은 1,234,567,890원") == []
    assert kinds("은행 고객센터 1588-9999, 080-123-4567") == []


def test_addresses() -> None:
    assert kinds("주소: 서울특별시 종로구 세종대로 209, 3층 (세종로)") == [
        ("address", "서울특별시 종로구 세종대로 209, 3층 (세종로)", False)]
    assert kinds("경기도 성남시 분당구 판교역로 235")[0][1] == "경기도 성남시 분당구 판교역로 235"
    assert kinds("세종특별자치시 도움6로 11")[0][1] == "세종특별자치시 도움6로 11"
    assert kinds("종로구 혜화동 123-4번지")[0][1] == "종로구 혜화동 123-4번지"
    assert kinds("서울 강남구 테헤란로7길 22, 101동 1203호")[0][1] == "서울 강남구 테헤란로7길 22, 101동 1203호"
    for neg in ("상시 근로자수가 1,000명", "서울시 방식으로 3년간", "시장ㆍ군수ㆍ구청장은 대통령령으로 정한다",
                "서울시 25개 구에서", "중앙로 123"):
        assert kinds(neg) == [], neg


def test_findings_sorted_non_overlapping_and_labelled() -> None:
    text = "홍길동 900101-1234568 010-1234-5678 hong@korea.kr 국민은행 123456-01-234567 116-82-00276"
    fs = detect(text)
    assert [f.kind for f in fs] == ["rrn", "phone", "email", "bank_account", "business_no"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(fs))
    assert all(text[f.start:f.end] == f.text for f in fs)
    assert fs[0].label_ko == "주민등록번호" and fs[3].label_ko == "계좌번호"
    assert isinstance(fs[0], Finding)
    assert detect("") == []


# --------------------------------------------------------------------------- press releases
PRESS = """보도자료\t국토교통부
보도시점: 2026. 6. 23.(화) 11:00 이후 (6. 24.(수) 조간)
□ 정부는 대책을 발표했다. 최초 신고자 김민수 씨(010-9876-5432)에게 포상한다.
담당 부서\t철도국\t책임자\t과  장\t홍길동\t(044-201-3938)
\t철도안전정책과\t담당자\t사무관\t김철수\t(044-201-3939)
책임자 과장 박서준
(044-202-7400)
주무관 이영희 | 02-2100-1234 | lee@korea.kr
이 보도자료와 관련하여 자세한 내용은 지진방재정책과 이영희 주무관(☎ 044-205-4123)에게 문의하시기 바랍니다.
"""


def test_press_release_contacts_are_not_findings() -> None:
    assert kinds(PRESS, press_release=True) == [("phone", "010-9876-5432", False)]
    plain = [t for _, t, _ in kinds(PRESS)]  # the same text outside press-release mode
    assert plain == ["010-9876-5432", "044-201-3938", "044-201-3939", "044-202-7400", "02-2100-1234",
                     "lee@korea.kr", "044-205-4123"]


def test_press_contact_table_from_real_hwpx() -> None:
    from dasan.ingest.readers import read_file

    doc = read_file(shared_path("data", "hwp-samples", "hwpx", "tests_fixtures_m2_corpus_public_official_table.hwpx"))
    assert len([d for d in scan_document(doc, press_release=False) if d.finding.kind == "phone"]) == 3
    assert scan_document(doc, press_release=True) == []


# --------------------------------------------------------------------------- masking
def test_mask_keeps_structure() -> None:
    cases = {
        "900101-1234568": "900101-1******",
        "9001011234568": "9001011******",
        "900101-5234561": "900101-5******",
        "130111-0006246": "130111-*******",
        "116-82-00276": "116-82-*****",
        "010-1234-5678": "010-****-5678",
        "01012345678": "010****5678",
        "+82-10-1234-5678": "+82-10-****-5678",
        "(02) 123-4567": "(02) ***-4567",
        "hong.gd@example.go.kr": "h***@example.go.kr",
        "여권번호 M123A4567": "여권번호 M123*****",
        "운전면허 11-12-345678-90": "운전면허 11-12-******-**",
        "국민은행 123456-01-234567": "국민은행 ******-**-**4567",
        "서울특별시 종로구 세종대로 209, 3층": "서울특별시 종로구 세종대로 ***, *층",
    }
    for raw, want in cases.items():
        assert mask(f"값: {raw} 끝") == f"값: {want} 끝", raw


def test_mask_is_idempotent_and_uses_given_findings() -> None:
    text = "주민등록번호 900101-1234568, 010-1234-5678, hong@korea.kr, 국민은행 123456-01-234567"
    once = mask(text)
    assert mask(once) == once and detect(once) == []
    only_phone = [f for f in detect(text) if f.kind == "phone"]
    assert mask(text, only_phone) == text.replace("010-1234-5678", "010-****-5678")


# --------------------------------------------------------------------------- policies
def test_policies() -> None:
    text = "신청인 주민등록번호 900101-1234568, 연락처 010-1234-5678"
    assert apply_policy(text, "off", "ingest") == text
    assert apply_policy(text, PiiPolicy.MASK_INGEST, "ingest") == mask(text)
    assert apply_policy(text, "mask_ingest", "answer") == mask(text)
    assert apply_policy(text, "mask_answer", "ingest") == text
    assert apply_policy(text, "mask_answer", "answer") == mask(text)
    assert apply_policy("개인정보 없는 문장", "block", "ingest") == "개인정보 없는 문장"
    with pytest.raises(PiiBlockedError) as ei:
        apply_policy(text, "block", "ingest", path="a.hwp")
    msg = str(ei.value)
    assert "주민등록번호 1건" in msg and "전화번호 1건" in msg and "a.hwp" in msg
    assert "900101" not in msg and "5678" not in msg  # the error never repeats the values
    assert ei.value.counts == {"rrn": 1, "phone": 1} and ei.value.code == "pii_blocked"
    assert isinstance(ei.value, DasanError)
    with pytest.raises(PiiBlockedError):
        apply_policy(text, "block", "answer")
    with pytest.raises(DasanError, match="정책"):
        apply_policy(text, "nope", "ingest")
    # officials' contacts in a release pass a block policy
    contact = "담당자 | 사무관 김철수 | (044-201-3939)"
    assert apply_policy(contact, "block", "ingest", press_release=True) == contact


# --------------------------------------------------------------------------- benchmark
def test_labelled_set_meets_targets() -> None:
    samples = generate(n=600, seed=7)
    assert generate(n=5, seed=7)[0].text == samples[0].text  # deterministic for a seed
    res = evaluate(samples)
    assert res["checksummed_gold"] > 200
    assert res["checksummed_recall"] >= 0.99
    assert res["precision"] >= 0.95
    assert res["recall"] >= 0.95
    for kind, m in res["per_kind"].items():
        assert m["tp"] > 10, kind  # every kind is exercised
        assert m["precision"] >= 0.9 and m["recall"] >= 0.9, (kind, m)


def test_bench_command_json() -> None:
    r = CliRunner().invoke(pii_bench_cmd, ["--n", "60", "--seed", "3", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["documents"] == 60 and data["seed"] == 3 and set(data["per_kind"]) >= {"rrn", "phone"}
    r = CliRunner().invoke(pii_bench_cmd, ["--n", "30"])
    assert r.exit_code == 0 and "정밀도" in r.output


# --------------------------------------------------------------------------- real text, speed
def test_real_laws_have_no_findings() -> None:
    laws = shared_path("data", "laws")
    files = sorted(laws.rglob("*.md"))
    assert len(files) >= 30
    found = []
    for p in files:
        text = p.read_text(encoding="utf-8")
        found += [(p.name, f.kind, f.text) for f in detect(text)]
    assert found == []  # measured: 0 findings in 85 files (4.7 M characters)


@pytest.mark.parametrize("bad", ["1" * 200_000, "1-" * 100_000, "a@" * 100_000, "로1" * 100_000,
                                 "a." * 100_000 + "@", "서울시 종로구 " * 20_000, "0 " * 100_000])
def test_no_catastrophic_backtracking(bad: str) -> None:
    t0 = time.perf_counter()
    detect(bad)
    assert time.perf_counter() - t0 < 3.0


# --------------------------------------------------------------------------- CLI
def test_scan_cli(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("신청인 홍길동(주민등록번호 900101-1234568)\n연락처 010-1234-5678\n", encoding="utf-8")
    (tmp_path / "clean.txt").write_text("제3조제2항에 따라 2024-01-01부터 시행한다.\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "b.md").write_text("# 명단\n\n| 이름 | 전자우편 |\n|---|---|\n| 김 | kim@example.com |\n", encoding="utf-8")
    (sub / "broken.hwp").write_bytes(b"\x00\x01 not a document")

    r = CliRunner().invoke(pii, ["scan", str(tmp_path / "clean.txt")])
    assert r.exit_code == 0 and "개인정보 없음" in r.output

    r = CliRunner().invoke(pii, ["scan", str(tmp_path)])
    assert r.exit_code == 1, r.output  # only the top folder: PII, no failures
    assert "900101-1******" in r.output and "[검증됨]" in r.output and "010-****-5678" in r.output
    assert "1234568" not in r.output  # raw values are never printed

    r = CliRunner().invoke(pii, ["scan", "--recursive", "--json", str(tmp_path), str(tmp_path / "missing.txt")])
    assert r.exit_code == 3  # PII found and some files failed
    data = json.loads(r.output)
    by_name = {Path(f["path"]).name: f for f in data["files"]}
    a = by_name["a.txt"]["findings"]
    assert [(f["kind"], f["masked"], f["verified"], f["block"]) for f in a] == [
        ("rrn", "900101-1******", True, 0), ("phone", "010-****-5678", False, 1)]
    assert a[0]["offset"] == 15 and a[0]["length"] == 14
    assert [f["masked"] for f in by_name["b.md"]["findings"]] == ["k***@example.com"]
    assert by_name["broken.hwp"]["error"] and any("가" <= c <= "힣" for c in by_name["broken.hwp"]["error"])
    assert by_name["missing.txt"]["error_code"] == "not_found"
    assert data["summary"]["failed"] == 2 and data["summary"]["by_kind"] == {"rrn": 1, "phone": 1, "email": 1}


def test_scan_document_maps_pages_and_blocks() -> None:
    doc = Document(source="x.pdf", format="pdf", blocks=[
        Block(kind="page_break", page=1), Block(kind="paragraph", text="첫 쪽", page=1),
        Block(kind="page_break", page=2), Block(kind="paragraph", text="연락처 010-1234-5678", page=2),
    ])
    (df,) = scan_document(doc, press_release=False)
    assert (df.block, df.page, df.offset) == (3, 2, 4)
    assert df.as_dict()["masked"] == "010-****-5678"
