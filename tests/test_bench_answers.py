"""`dasan bench answers`: scoring rules and the JSON it reports, on a small real statute."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.answers import score_answer
from dasan.cli import cli


def test_score_answer_rules() -> None:
    q = {"gold": ["청년기본법 제3조"], "answer_keywords": ["19세 이상 34세 이하"]}
    # whitespace is normalised away on both sides (a quote may wrap lines)
    s = score_answer(q, "청년이란 19세 이상\n34세  이하인 사람 [1]", False, ["청년기본법 제3조 제1호", "청년기본법 제4조"])
    assert s["keyword_hit"] == 1.0 and s["citation_hit"] == 1.0 and s["refused"] == 0.0
    assert s["articles"] == 2.0  # 제3조 제1호 and 제4조 are two articles
    assert s["citation_precision"] == 0.5  # one of the two articles cited is gold
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
