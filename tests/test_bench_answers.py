"""`dasan bench answers`: scoring rules and the JSON it reports, on a small real statute."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.answers import score_answer, score_generated
from dasan.bench.metrics import Result
from dasan.cli import cli
from dasan.types import SentenceCheck


def test_score_answer_rules() -> None:
    q = {"gold": ["청년기본법 제3조"], "answer_keywords": ["19세 이상 34세 이하"]}
    # whitespace is normalised away on both sides (a quote may wrap lines)
    s = score_answer(q, "청년이란 19세 이상\n34세  이하인 사람 [1]", False, ["청년기본법 제3조 제1호", "청년기본법 제4조"])
    assert s["keyword_hit"] == 1.0 and s["citation_hit"] == 1.0 and s["refused"] == 0.0
    assert s["articles"] == 2.0  # 제3조 제1호 and 제4조 are two articles
    assert s["citation_precision"] == 0.5  # one of the two articles cited is gold
    assert s["keyword_hit_early"] == 1.0  # stated within the first 150 characters
    late = score_answer(q, "청년기본법 제3조: " + "가" * 150 + " 19세 이상 34세 이하 [1]", False, ["청년기본법 제3조"])
    assert late["keyword_hit"] == 1.0 and late["keyword_hit_early"] == 0.0
    wrong = score_answer(q, "19세 이상 34세 이하 [1]", False, ["청년기본법 시행령 제3조"])
    assert wrong["citation_hit"] == 0.0  # the 시행령's 제3조 is another article
    refused = score_answer(q, "제공된 문서에서 근거를 찾지 못했습니다.", True, [])
    assert refused["keyword_hit"] == 0.0 and refused["refused"] == 1.0
    assert "citation_precision" not in refused  # a refusal cites nothing: no precision to count
    assert score_answer({"gold": []}, "…", True, []) == {"refused_unanswerable": 1.0}


def test_bench_answers_cli_json(tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "t1", "question": "청년기본법에서 말하는 청년은 몇 살부터 몇 살까지예요?",
         "gold": ["청년기본법 제3조"], "answer_keywords": ["19세 이상 34세 이하"]},
        {"id": "t2", "question": "화성 탐사선의 다음 발사 일정은 언제인가요?", "gold": [], "answer_keywords": []},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    corpus = shared_path("data", "laws", "청년기본법")
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "bench", "answers", "--corpus", str(corpus),
                                   "--questions", str(questions), "--cold", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout[res.stdout.index("\n{") + 1:] if not res.stdout.startswith("{") else res.stdout)
    assert out["n"] == 2 and out["answerable"] == 1 and out["unanswerable"] == 1 and out["cold"] is True
    ext = out["backends"]["extractive"]
    assert ext["keyword_hit"] == 1.0 and ext["citation_accuracy"] == 1.0 and ext["false_refusal"] == 0.0
    assert ext["refusal_unanswerable"] == 1.0
    assert ext["articles_per_answer"] >= 1 and ext["answer_chars_p50"] > 0
    assert 0 < ext["ttft_p50_ms"] <= ext["total_p95_ms"]
    # no model wrote anything: the model-sentence metrics are absent, not perfect
    assert ext["generated_answers"] == 0
    assert all(ext[k] is None for k in ("generated_support", "generated_keyword_hit", "generated_citation_accuracy",
                                        "generated_citation_precision"))


def _check(text: str, supported: bool, citation: str | None = None, doc: str | None = None) -> SentenceCheck:
    return SentenceCheck(text, supported, 1 if supported else None, "c" if supported else None, doc,
                         citation if supported else None)


def test_generated_metrics_count_only_the_models_own_sentences() -> None:
    q = {"gold": ["청년기본법 제3조"], "answer_keywords": ["19세 이상 34세 이하"]}
    checks = [
        _check("청년이란 19세 이상 34세 이하인 사람을 말합니다.", True, "청년기본법 제3조 제1호"),
        _check("청년정책은 국무총리가 총괄합니다.", True, "청년기본법 제9조"),
        _check("청년은 매달 100만원을 받습니다.", False),
        _check("화성에도 청년센터가 있습니다.", False),
    ]
    sources = [Result("청년기본법 제3조 제1호"), Result("청년기본법 제9조")]
    text = "청년이란 19세 이상 34세 이하인 사람을 말합니다. [1] 청년정책은 국무총리가 총괄합니다. [2]"
    s = score_generated(q, checks, text, sources)
    assert s["generated_sentences"] == 4.0
    assert s["generated_support"] == 0.5  # two of the four sentences a source supports
    assert s["generated_citation_hit"] == 1.0
    assert s["generated_citation_precision"] == 0.5  # 제3조 is gold, 제9조 is not
    assert s["generated_keyword_hit"] == 1.0
    # the same keywords only in the appended quotes do not count for the model
    s2 = score_generated(q, checks[1:], "청년정책은 국무총리가 총괄합니다. [1]", sources[1:])
    assert s2["generated_keyword_hit"] == 0.0 and s2["generated_citation_hit"] == 0.0
    assert s2["generated_citation_precision"] == 0.0 and abs(s2["generated_support"] - 1 / 3) < 1e-9


def test_generated_metrics_when_nothing_was_supported_or_nothing_generated() -> None:
    q = {"gold": ["청년기본법 제3조"], "answer_keywords": ["19세"]}
    # every sentence removed: the answer falls back to quotes; the model gets no credit for them
    s = score_generated(q, [_check("청년은 45세까지입니다.", False)], "", [])
    assert s["generated_support"] == 0.0 and s["generated_keyword_hit"] == 0.0
    assert s["generated_citation_hit"] == 0.0 and "generated_citation_precision" not in s
    # extractive answers (no model wrote anything): absent, not perfect
    assert score_generated(q, None, None, []) == {}
    # unanswerable questions: only the support share is counted
    s3 = score_generated({"gold": []}, [_check("없습니다.", False), _check("있습니다.", True, "청년기본법 제3조")], "있습니다. [1]",
                         [Result("청년기본법 제3조")])
    assert s3 == {"generated_sentences": 2.0, "generated_support": 0.5}


def test_generated_metrics_count_a_press_release_once() -> None:
    q = {"gold": ["105459"], "answer_keywords": []}
    checks = [_check("가.", True, "보도자료 p.1", "d1"), _check("나.", True, "보도자료 p.2", "d1"),
              _check("다.", True, "다른 보도자료", "d2")]
    sources = [Result("보도자료 p.1", "105459", "press"), Result("보도자료 p.2", "105459", "press"),
               Result("다른 보도자료", "105460", "press")]
    s = score_generated(q, checks, "가. [1] 나. [1] 다. [2]", sources)
    assert s["generated_citation_precision"] == 0.5 and s["generated_support"] == 1.0
