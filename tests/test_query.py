from __future__ import annotations

from dasan.rag.query import StatuteCatalog, quoted_phrases, statute_family


def test_statute_family_strips_subordinate_kind_and_spaces() -> None:
    assert statute_family("철도안전법 시행령") == "철도안전법"
    assert statute_family("재난 및 안전관리 기본법 시행규칙") == "재난및안전관리기본법"
    assert statute_family(None) == ""


def test_mentions_prefer_longest_title_and_ignore_spacing() -> None:
    cat = StatuteCatalog(["철도안전법", "도시철도법", "개인정보보호법", "법"])
    assert cat.mentions("개인정보 보호법상 정보주체란?") == ["개인정보보호법"]
    assert sorted(cat.mentions("도시철도법에 따른 철도안전법 적용")) == ["도시철도법", "철도안전법"]
    assert cat.mentions("지하철 요금은?") == []


def test_quoted_phrases() -> None:
    assert quoted_phrases('감염병예방법상 "표본감시"의 정의는?') == ["표본감시"]
    assert quoted_phrases("「청년기본법」상 ‘청년’은") == ["청년기본법", "청년"]
    assert quoted_phrases("따옴표 없음") == []


def test_penalty_questions_and_penalty_article_titles() -> None:
    from dasan.rag.query import StatuteCatalog, is_penalty_title

    cat = StatuteCatalog(["철도안전법"])
    assert cat.analyse("안전교육을 안 시키면 과태료는 얼마예요?").penalty
    assert cat.analyse("역무원을 때리면 어떤 벌을 받나요?").penalty
    assert not cat.analyse("중대재해 처벌법에서 중대산업재해는 무엇인가요?").penalty
    assert not cat.analyse("청년은 몇 살까지예요?").penalty
    assert all(is_penalty_title(t) for t in ["벌칙", "과태료", "양벌규정", "중대산업재해 사업주와 경영책임자등의 처벌"])
    assert not any(is_penalty_title(t) for t in ["목적", "정의", "처벌의 특례에 관한 경과조치"])
