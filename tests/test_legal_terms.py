"""The everyday → statute vocabulary dictionary and its use in query expansion."""

from __future__ import annotations

import pytest

from dasan.errors import ConfigError
from dasan.korean import legal_terms
from dasan.korean.legal_terms import LegalThesaurus, default_thesaurus, parse
from dasan.korean.tokenize import tokenize, tokenize_query


def test_bundled_dictionary_parses_and_is_substantial():
    entries = parse(legal_terms.BUNDLED.read_text(encoding="utf-8").splitlines())
    assert len(entries) >= 250
    assert all(term and plain for term, plain in entries)


def test_inflected_everyday_words_bring_statute_terms():
    th = default_thesaurus()
    exp = th.expand(tokenize_query("승객이 직원을 때리거나 위협하면 처벌받나요?"))
    assert {"폭행", "협박", "여객"} <= set(exp.terms)
    assert "폭행" in exp.tokens and "협박" in exp.tokens
    assert "때리다" in exp.triggers


def test_phrases_match_only_as_consecutive_morphemes():
    th = LegalThesaurus([("운임", ["지하철 요금"])], tokenize)
    assert th.expand(tokenize_query("지하철 요금은 얼마인가요")).terms == ("운임",)
    assert not th.expand(tokenize_query("요금과 지하철 노선")).terms


def test_no_expansion_when_the_question_already_uses_the_term():
    th = LegalThesaurus([("운임", ["요금"])], tokenize)
    exp = th.expand(tokenize_query("운임과 요금의 차이"))
    assert not exp and exp.tokens == ()


def test_legal_terms_are_tokenised_as_nouns():
    th = LegalThesaurus([("보고", ["알리다"])], tokenize)
    assert th.expand(tokenize_query("누구에게 알려야 하나요")).tokens == ("보고",)


def test_phrase_that_collapses_to_one_word_is_ignored():
    th = LegalThesaurus([("상시근로자", ["직원 수"])], tokenize)
    assert not th.expand(tokenize_query("직원에게 주는 수당"))


def test_malformed_line_names_the_fix():
    with pytest.raises(ConfigError, match="2번째 줄"):
        parse(["운임\t요금", "이건 탭이 없음"], "site.tsv")


def test_site_dictionary_from_environment(tmp_path, monkeypatch):
    site = tmp_path / "site.tsv"
    site.write_text("# 우리 기관 용어\n승강장안전문\t안전펜스\n", encoding="utf-8")
    monkeypatch.setenv("DASAN_LEGAL_TERMS", str(site))
    entries = legal_terms.load_entries()
    assert ("승강장안전문", ["안전펜스"]) in entries
    monkeypatch.setenv("DASAN_LEGAL_TERMS", str(tmp_path / "missing.tsv"))
    with pytest.raises(ConfigError, match="DASAN_LEGAL_TERMS"):
        legal_terms.load_entries()


def test_example_site_file_loads_and_holds_what_left_the_bundled_list(monkeypatch):
    from pathlib import Path

    site = Path(__file__).resolve().parents[1] / "examples" / "site" / "legal_terms_site.tsv"
    site_entries = parse(site.read_text(encoding="utf-8").splitlines(), str(site))
    bundled = {(term, p) for term, plain in parse(legal_terms.BUNDLED.read_text(encoding="utf-8").splitlines())
               for p in plain}
    moved = {(term, p) for term, plain in site_entries for p in plain}
    assert ("소변", "오줌") in moved and ("동수", "반반") in moved
    assert not moved & bundled  # entries echoing dev questions are not in the default list
    monkeypatch.setenv("DASAN_LEGAL_TERMS", str(site))
    assert ("사무직", ["사무실", "사무 직원", "내근"]) in legal_terms.load_entries()
