"""Youth benefits (issue 17): catalogue, rules, YAML cases, recommendation, bench, CLI and API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.apps.youth import freetext
from dasan.apps.youth.bench import read_cases, run_bench
from dasan.apps.youth.cases import run_dir
from dasan.apps.youth.catalogue import Policy, ingest, load_policies, policy_from_record, read_catalogue
from dasan.apps.youth.profile_parse import parse_question
from dasan.apps.youth.recommend import Query, recommend
from dasan.apps.youth.rules import Profile, screen, screen_all
from dasan.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "youth_cases"
DEV_CASES = ROOT / "bench" / "youth_cases_dev.jsonl"


@pytest.fixture(scope="module")
def files() -> list[Path]:
    d = shared_path("data", "youth-policy")
    return [d / "ontong_policies_2025.csv", d / "seoul_policies_2024.json"]


@pytest.fixture(scope="module")
def policies(files: list[Path]) -> list[Policy]:
    return read_catalogue(files)


@pytest.fixture(scope="module")
def by_no(policies: list[Policy]) -> dict[str, Policy]:
    return {p.plcy_no: p for p in policies}


# -- catalogue -------------------------------------------------------------------------------

def test_catalogue_reads_both_shapes_and_source_conventions(files: list[Path], by_no: dict[str, Policy]) -> None:
    csv_only = read_catalogue(files[:1])
    assert len(csv_only) == 1604
    assert len(by_no) == 1604 + 342 - 51  # 51 Seoul records are also in the CSV
    # several codes in one field
    multi = [p for p in by_no.values() if len(p.job) > 1]
    assert multi and all(c.startswith("0013") for p in multi for c in p.job)
    # "Y" = no age limit (ages 0)
    nolimit = by_no["20251231005400212071"]
    assert (nolimit.age_min, nolimit.age_max) == (None, None)
    # 만원, except the one income written in 원
    in_won = [p for p in by_no.values() if p.raw.get("earnMaxAmt") == "43056240"]
    assert [p.earn_max for p in in_won] == [4305] and "원 단위" in in_won[0].notes[0]
    # several windows separated by \N
    assert any(len(p.windows) == 2 for p in by_no.values())
    # of a record in both files, the one modified last is kept
    both = [p for p in by_no.values() if p.source.endswith(".json") and p.plcy_no.startswith("2025")]
    assert all(p.modified for p in both)


def test_policy_record_without_fields_is_refused() -> None:
    from dasan.apps.youth.catalogue import CatalogueError

    with pytest.raises(CatalogueError, match="getPlcy"):
        policy_from_record({"plcyNo": "1"})


def test_ingest_updates_by_plcyno_marks_expired_and_never_deletes(tmp_path: Path, files: list[Path]) -> None:
    from dasan.store import open_store

    store = open_store(tmp_path / "data")
    assert store.schema_version() >= 7  # migration 0007_youth_policies.sql
    rep = ingest(store, files[:1], today=date(2025, 9, 1))
    assert (rep.added, rep.total) == (1604, 1604)
    assert 0 < rep.expired < 1604
    again = ingest(store, files[:1], today=date(2025, 9, 1))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1604)
    # a changed record replaces the stored one (same plcyNo), nothing is added
    from dasan.apps.youth.catalogue import read_records

    row = next(r for r in read_records(files[0]) if r["plcyNo"] == "20251231005400212071")
    row = {k.lstrip("\ufeff"): v for k, v in row.items()}
    row["plcyNm"] += "(변경)"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps([row], ensure_ascii=False), encoding="utf-8")
    rep3 = ingest(store, [changed], today=date(2026, 6, 1))
    assert (rep3.added, rep3.updated, rep3.total) == (0, 1, 1604)
    pols = {p.plcy_no: p for p in load_policies(store)}
    assert pols["20251231005400212071"].name.endswith("(변경)")
    # later reference date: more windows past, all still there, marked
    assert rep3.expired > rep.expired and len(pols) == 1604
    assert pols["20251231005400212071"].expired_marked  # window ended 2025-08-28
    # the same record again at another level: the level changes (and 공개 callers no longer see it)
    rep4 = ingest(store, [changed], today=date(2026, 6, 1), classification="민감")
    assert (rep4.updated, rep4.total) == (1, 1604)
    public = {p.plcy_no for p in load_policies(store, public_only=True)}
    assert "20251231005400212071" not in public and len(public) == 1603
    store.close()


# -- rules -----------------------------------------------------------------------------------

def test_yaml_cases_pass(by_no: dict[str, Policy]) -> None:
    results = run_dir(CASES_DIR, by_no)
    assert len(results) >= 30
    failed = [f"{r.file} · {r.name} · {r.plcy_no}: {r.problems}" for r in results if not r.ok]
    assert not failed, "\n".join(failed)


def test_yaml_runner_reports_a_wrong_expectation(tmp_path: Path, by_no: dict[str, Policy]) -> None:
    (tmp_path / "wrong.yaml").write_text(
        "reference_date: 2025-09-01\ncases:\n  - name: 틀린 기대\n    profile: {birth_date: 1990-09-01, "
        "sigungu_code: '11620'}\n    expected:\n      '20250703005400111146': {status: 대상}\n", encoding="utf-8")
    [res] = run_dir(tmp_path, by_no)
    assert not res.ok and "비대상" in res.problems[0]


def test_blank_free_text_is_no_condition() -> None:
    for t in ("", "-", "없음", "없음.", "제한없음", "제한 없음", "해당 없음", " - "):
        assert freetext.is_blank(t), t
    for t in ("공고문 참조", "무주택자", "중위소득 150% 이하"):
        assert not freetext.is_blank(t), t


def test_every_result_names_its_deciding_conditions(policies: list[Policy]) -> None:
    prof = Profile.from_dict({"birth_date": "1998-03-02", "sigungu_code": "11620", "job": "미취업자",
                              "school": "대학 졸업", "marital": "미혼", "income_manwon": 2400})
    results = screen_all(policies, prof, date(2025, 9, 1))
    assert {r.status for r in results} == {"대상", "비대상", "확인 필요"}
    for r in results:
        assert r.deciding, r.policy.plcy_no
        assert all(c.quote for c in r.deciding)
    # 대상 only when every condition is met, free-text ones included; 비대상 is said at the first
    # failing condition, and the full trace agrees
    for r in results:
        if r.status == "대상":
            assert all(c.outcome == "충족" for c in screen(r.policy, prof, date(2025, 9, 1)).checks)
        elif r.status == "비대상":
            assert r.checks[-1].outcome == "불충족"
            assert screen(r.policy, prof, date(2025, 9, 1), full=True).status == "비대상"


def test_screening_the_whole_catalogue_is_fast(policies: list[Policy]) -> None:
    prof = Profile.from_dict({"birth_date": "1996-05-05", "sigungu_code": "41111", "job": "재직자",
                              "income_manwon": 3000})
    screen_all(policies, prof, date(2025, 9, 1))
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        screen_all(policies, prof, date(2025, 9, 1))
        times.append((time.perf_counter() - t0) * 1000)
    assert sorted(times)[2] < 200, times


# -- question, recommendation ------------------------------------------------------------------

def test_sentence_becomes_a_profile_to_confirm() -> None:
    p = parse_question("관악구 사는 27살 취준생인데 월세 지원 있어요?")
    assert p.fields["sigungu_code"] == "11620" and p.fields["age"] == 27 and p.fields["job"] == "미취업자"
    assert p.query.category == "주거" and p.query.keywords == ("월세",)
    assert p.as_dict()["read"] and "확인" in p.as_dict()["confirm"]
    amb = parse_question("중구 사는 30살 직장인")
    assert "sigungu_code" not in amb.fields and "region" in amb.unclear and len(amb.candidates["region"]) > 3
    old = parse_question("춘천 사는 25살, 월 200만원 벌어요")
    assert old.fields["sigungu_code"] == "51110" and old.fields["income_manwon"] == 2400
    # "광주" alone is 광주광역시 (시도 only); "경기 광주" is 경기도 광주시; "제주 사는" does not pick 제주시
    assert parse_question("광주 사는 24살").fields.get("sido_code") == "29"
    assert parse_question("경기 광주 사는 24살").fields["sigungu_code"] == "41610"
    assert "sigungu_code" not in parse_question("제주 사는 25살").fields
    assert parse_question("98년생 마포구 직장인").fields["birth_year"] == 1998


def test_recommend_puts_eligible_first_and_asks_the_missing_fact(policies: list[Policy]) -> None:
    on = date(2025, 9, 1)
    prof = Profile.from_dict({"birth_date": "1997-04-04", "sigungu_code": "11620", "job": "미취업자"})
    rec = recommend(policies, prof, Query("주거", ("월세",)), on)
    assert rec.results and all("주거" in r.policy.categories for r in rec.results)
    statuses = [r.status for r in rec.results]
    assert statuses == sorted(statuses, key=lambda s: s != "대상")
    full = recommend(policies, Profile.from_dict({"age": 27, "sigungu_code": "11620"}), Query("일자리", ("면접",)), on)
    assert full.question and full.question["fact"] == "job" and "?" in full.question["question"]
    answered = recommend(policies, Profile.from_dict({"age": 27, "sigungu_code": "11620", "job": "미취업자"}),
                         Query("일자리", ("면접",)), on)
    before = sum(r.status == "확인 필요" for r in full.results)
    after = sum(r.status == "확인 필요" for r in answered.results)
    assert after <= before - full.question["settles"]
    out = full.as_dict()
    assert out["counts"]["확인 필요"] >= full.question["affects"] >= 1
    first = out["results"][0]
    assert {"documents", "apply_method", "url", "window", "reasons"} <= set(first)


# -- bench -----------------------------------------------------------------------------------

def test_dev_cases_come_from_the_independent_script(tmp_path: Path) -> None:
    shared_path("data", "youth-policy")
    script = ROOT / "scripts" / "make_youth_cases.py"
    assert "dasan.apps.youth" not in script.read_text(encoding="utf-8").replace(
        "it does NOT call dasan.apps.youth", "")
    out = tmp_path / "cases.jsonl"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True, timeout=120)
    assert out.read_text(encoding="utf-8") == DEV_CASES.read_text(encoding="utf-8")


def test_bench_meets_the_targets(policies: list[Policy]) -> None:
    cases = read_cases(DEV_CASES)
    assert len(cases) >= 50
    res = run_bench(policies, cases)
    assert res["unknown_gold_ids"] == 0
    assert res["false_eligible"] <= 0.02, res["false_eligible_ids"]
    assert res["precision@5"] >= 0.9
    assert res["recall@20"] >= 0.8


def test_bench_cli_json(files: list[Path]) -> None:
    r = CliRunner().invoke(cli, ["youth", "bench", "--catalogue", str(files[0]), "--catalogue", str(files[1]),
                                 "--cases", str(DEV_CASES), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out) >= {"n", "false_eligible", "precision@5", "recall@20", "p95_ms"}


def test_youth_test_cli_runs_the_yaml_folder(files: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    home = str(tmp_path / "home")
    r = runner.invoke(cli, ["--data-dir", home, "youth", "test", str(CASES_DIR)])
    assert r.exit_code != 0 and "youth ingest" in str(r.exception)  # empty store: says how to fill it
    r = runner.invoke(cli, ["--data-dir", home, "youth", "ingest", *map(str, files), "--today", "2025-09-01"])
    assert r.exit_code == 0 and "1895건" in r.output, r.output
    r = runner.invoke(cli, ["--data-dir", home, "youth", "test", str(CASES_DIR)])
    assert r.exit_code == 0 and "통과" in r.output, r.output


# -- API -------------------------------------------------------------------------------------

def test_public_routes_need_no_key_and_show_only_public_policies(tmp_path: Path, files: list[Path]) -> None:
    from fastapi.testclient import TestClient

    from dasan.server.app import create_app

    app = create_app(tmp_path / "data", start=False)
    store = app.state.dasan.store
    ingest(store, files[:1], today=date(2025, 9, 1))
    # one policy kept at another level: never served on the anonymous routes
    secret = tmp_path / "secret.json"
    rec = json.loads(files[1].read_text(encoding="utf-8"))[0]
    rec = {**rec, "plcyNo": "SECRET-1", "plcyNm": "비공개 시험 정책", "zipCd": "11620",
           "lastMdfcnDt": "2099-01-01 00:00:00"}
    secret.write_text(json.dumps([rec], ensure_ascii=False), encoding="utf-8")
    ingest(store, [secret], today=date(2025, 9, 1), classification="민감")
    with TestClient(app) as client:
        assert client.get("/v1/youth/policies/SECRET-1").status_code == 404
        got = client.get("/v1/youth/policies/20250703005400111146")
        assert got.status_code == 200 and got.json()["name"] == "청년 유입 및 체류 지원"
        body = {"profile": {"birth_date": "1998-01-01", "sigungu_code": "11620"}, "reference_date": "2025-09-01",
                "limit": 2000}
        res = client.post("/v1/youth/screen", json=body)
        assert res.status_code == 200
        assert sum(res.json()["counts"].values()) == 1604
        assert all(r["plcyNo"] != "SECRET-1" for r in res.json()["results"])
        rec_res = client.post("/v1/youth/recommend", json={"text": "관악구 사는 27살 취준생인데 월세 지원 있어요?",
                                                            "reference_date": "2025-09-01"})
        assert rec_res.status_code == 200 and rec_res.json()["understood"]["profile"]["sigungu_code"] == "11620"
        bad = client.post("/v1/youth/screen", json={"profile": {"job": "학생"}})
        assert bad.status_code == 400 and "미취업자" in bad.json()["error"]["message"]
        assert client.get("/youth").status_code == 200
        # the rest of /v1 still needs a key; the anonymous routes are exactly the listed ones
        assert client.get("/v1/documents").status_code == 401
        from dasan.server.youth_api import PUBLIC_PATHS, router

        assert {r.path for r in router.routes} == PUBLIC_PATHS
