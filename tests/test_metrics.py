from __future__ import annotations

import math

from dasan.bench.metrics import article_key, score_query


def test_article_key_strips_paragraph_but_keeps_branch_and_addenda() -> None:
    assert article_key("철도안전법 시행령 제60조의6 제1항") == "철도안전법 시행령 제60조의6"
    assert article_key("철도안전법 제41조") == "철도안전법 제41조"
    assert article_key("철도안전법 부칙 제1조") == "철도안전법 부칙 제1조"
    assert article_key("보도자료 p.3") == "보도자료 p.3"


def test_score_query_counts_hits_at_article_level() -> None:
    ranked = ["법 제2조", "법 제41조 제2항", "법 제41조 제1항", "영 제3조"]
    s = score_query(ranked, ["법 제41조", "영 제3조"])
    assert s["recall@1"] == 0.0 and s["recall@5"] == 1.0
    assert s["mrr@10"] == 0.5
    ideal = 1 + 1 / math.log2(3)
    assert math.isclose(s["ndcg@10"], (1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert score_query(ranked, ["법 제4조"])["recall@10"] == 0.0
    # a branch article is not its parent
    assert score_query(["법 제41조의2"], ["법 제41조"])["recall@1"] == 0.0
