"""보도자료 house-style check (`dasan press check`) on real 교육부 releases and mutations of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.apps.press.style import (
    MAX_SENTENCE_CHARS,
    RULE_LABELS,
    Finding,
    check_release,
    check_text,
    load_terms,
    render_lines,
)
from dasan.cli import cli
from dasan.errors import ConfigError
from dasan.ingest.readers import read_file

# Three HWPX releases and the HWP one; 105967 is a 국무조정실 release written 문장형
# (□ paragraphs continued by ㅇ sentences), which must not be reported as 개조식 errors.
REAL = ("105222.hwpx", "105086.hwp", "105967.hwpx", "105319.hwpx")


def real_lines(name: str) -> list[str]:
    return render_lines(read_file(shared_path("data", "press-moe", name)))


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def at(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def index_of(lines: list[str], pattern: str) -> int:
    return next(i for i, line in enumerate(lines) if re.search(pattern, line))


@pytest.mark.parametrize("name", REAL)
def test_real_release_has_embargo_and_contact(name: str) -> None:
    doc = read_file(shared_path("data", "press-moe", name))
    lines = render_lines(doc)
    findings = check_release(doc)
    assert "missing-embargo" not in rules(findings)
    assert "missing-contact" not in rules(findings)
    for f in findings:
        assert f.rule in RULE_LABELS
        assert 1 <= f.line <= len(lines)
        assert f.text and re.search("[가-힣]", f.message) and f.suggestion
        if f.rule in ("foreign-word", "abbreviation", "ambiguous-date"):
            assert f.text in lines[f.line - 1]  # the excerpt is on the line it points at


def test_real_release_written_as_sentences_is_not_reported_as_bullets() -> None:
    lines = real_lines("105967.hwpx")
    assert sum(1 for x in lines if re.match(r"\s*ㅇ .*다\.$", x)) >= 5  # sentence items are there
    assert at(check_text(lines), "bullet-ending") == []


def test_embargo_in_a_sentence_counts() -> None:
    # 평가원 releases say "11:00 이후 보도 가능합니다" instead of a 보도시점 label.
    assert "missing-embargo" not in rules(check_release(read_file(shared_path("data", "press-moe", "105756.hwpx"))))


def test_removing_the_embargo_line_is_reported() -> None:
    lines = real_lines("105222.hwpx")
    cut = [x for x in lines if "보도시점" not in x and "(지 면)" not in x]
    assert len(cut) < len(lines)
    (f,) = at(check_text(cut), "missing-embargo")
    assert f.line == 1 and "보도자료" in cut[0]
    assert "missing-embargo" not in rules(check_text(lines))


def test_removing_the_contact_table_is_reported() -> None:
    lines = real_lines("105086.hwp")
    cut = [x for x in lines if not re.search(r"\(0\d{1,2}-\d{3,4}-\d{4}\)", x)]
    (f,) = at(check_text(cut), "missing-contact")
    assert f.line == 1
    assert "missing-contact" not in rules(check_text(lines))


def test_sentence_bullet_in_a_list_is_reported_with_a_rewrite() -> None:
    lines = real_lines("105222.hwpx")
    k = index_of(lines, r"^□ 주요내용")
    lines.insert(k + 1, "  ◦ 가이드라인을 마련했습니다.")
    findings = check_text(lines)
    (b,) = at(findings, "bullet-ending")
    assert b.line == k + 2
    assert "가이드라인 마련" in b.suggestion
    words = [f for f in at(findings, "foreign-word") if f.line == k + 2]
    assert [(f.text, f.suggestion) for f in words] == [("가이드라인", "지침")]
    # the real list around it is 개조식 and stays clean
    assert at(check_text(real_lines("105222.hwpx")), "bullet-ending") == []


@pytest.mark.parametrize(
    ("item", "rewrite"),
    [
        ("- 현장 점검을 실시한다.", "현장 점검 실시"),
        ("○ 하반기에 설명회를 개최할 예정입니다.", "하반기에 설명회 개최 예정"),
        ("ㅇ 전담 조직을 운영하고 있다.", "전담 조직 운영 중"),
        ("◦ 위원 21명으로 구성되었다.", "위원 21명으로 구성"),
    ],
)
def test_bullet_endings_and_rewrites(item: str, rewrite: str) -> None:
    (f,) = at(check_text(["< 주요 내용 >", item]), "bullet-ending")
    assert f.line == 2 and rewrite in f.suggestion


def test_bullet_rule_leaves_prose_notes_and_noun_items_alone() -> None:
    lines = [
        "□ 교육부는 오늘 계획을 발표하였다.",  # a paragraph: sentences are right here
        " ㅇ 이번 계획은 3개 분야로 구성된다.",  # continues the paragraph (문장형)
        "□ 주요 내용",
        " ㅇ 현장 점검 실시",
        "   * 점검 결과는 누리집에 공개한다.",  # a note may be a sentence
    ]
    assert at(check_text(lines), "bullet-ending") == []
    # an item written "(label) …" is 개조식 by form even under a paragraph
    (f,) = at(check_text(["□ 주요 내용은 다음과 같다.", " ○ (주거) 공공임대 공급을 늘린다."]), "bullet-ending")
    assert f.line == 2


def test_long_sentence_is_reported_at_its_line() -> None:
    lines = real_lines("105086.hwp")
    sentence = (
        "  교육부는 올해 상반기 중 전국 17개 시도교육청과 함께 학교 현장의 의견을 폭넓게 수렴하여 "
        "교원의 행정 업무 부담을 줄이고 학생 맞춤형 교육을 강화하기 위한 종합 대책을 마련하고, "
        "관계 부처 및 지방자치단체와의 협력 체계를 갖추어 하반기부터 단계적으로 시행하는 한편 "
        "그 성과를 분석하여 내년도 예산 편성과 제도 개선에 반영해 나갈 계획이라고 밝혔다."
    )
    measured = len(" ".join(sentence.split()))
    assert 190 <= measured <= 230
    k = index_of(lines, r"^\s+교육부\(장관")
    lines.insert(k + 1, sentence)
    hits = [f for f in at(check_text(lines), "long-sentence") if f.line == k + 2]
    assert len(hits) == 1
    assert f"{measured}자" in hits[0].message and "마련하고," in hits[0].suggestion
    short = check_text(["교육부는 오늘 계획을 발표했다."], max_sentence_chars=10)
    assert rules(short).count("long-sentence") == 1
    assert MAX_SENTENCE_CHARS == 150


def test_ambiguous_dates_in_a_real_release() -> None:
    lines = real_lines("105222.hwpx")
    k = index_of(lines, r"^□ 세부 일정")
    lines.insert(k + 1, "  ◦ (위촉식) '26년 3/2(월) 개최, 결과 보고는 2026. 3. 9 이후")
    found = {f.text: f for f in at(check_text(lines), "ambiguous-date") if f.line == k + 2}
    assert set(found) == {"'26년", "3/2", "2026. 3. 9"}
    assert "'2026년'" in found["'26년"].suggestion
    assert "'3. 2.'" in found["3/2"].suggestion
    assert "'2026. 3. 9.'" in found["2026. 3. 9"].suggestion


def test_date_forms_that_are_fine_or_not_dates() -> None:
    ok = [
        "보도시점 | 2026. 3. 2.(월) 11:00 이후",
        "배포 | 2026.3.2.(월)",  # no spaces: left to spacing, not reported
        "전공 학점의 1/4 이상을 이수하고, 위원의 1/2 이상은 외부 전문가",  # fractions
        "누리집(www.moe.go.kr/boardCnt/12/3) 참고",  # a URL
        "3.5% 증가",
    ]
    assert at(check_text(ok), "ambiguous-date") == []
    bad = check_text(["일정: ’25.12.30.~’27.12.29.", "4.24(금) 회의", "2026-03-02 시행"])
    texts = [(f.line, f.text) for f in at(bad, "ambiguous-date")]
    assert texts == [(1, "’25.12.30."), (2, "4.24"), (3, "2026-03-02")]  # one per kind and line


def test_real_releases_have_no_slash_date_false_positives() -> None:
    for name in REAL:
        dates = at(check_text(real_lines(name)), "ambiguous-date")
        assert not [f for f in dates if "/" in f.text], name


def test_foreign_words_match_with_particles_not_inside_longer_words() -> None:
    findings = check_text([
        "가이드라인을 마련하고 가이드라인의 이행을 모니터링하여 플랫폼화한다.",
        "디지털플랫폼과 텔레비전, 글로컬대학을 지원한다.",
        "지침(가이드라인)을 따른다.",
    ])
    words = [(f.line, f.text) for f in at(findings, "foreign-word")]
    assert words == [(1, "가이드라인"), (1, "모니터링"), (1, "플랫폼")]


def test_abbreviations_need_a_korean_gloss_once_per_document() -> None:
    glossed = check_text(["인공지능(AI) 교육을 강화한다.", "AI 교과서를 보급한다."])
    assert at(glossed, "abbreviation") == []
    bare = check_text(["AI 교육을 강화한다.", "AI 교과서와 MOU 체결", "AI 활용", "업무 협약(MOU)"])
    assert [(f.line, f.text, f.suggestion) for f in at(bare, "abbreviation")] == [(1, "AI", "인공지능(AI)")]
    unknown = check_text(["교육부는 XYZ 사업을 추진한다."])
    assert [f.text for f in at(unknown, "abbreviation")] == ["XYZ"]
    # names glued to other words are not abbreviations to explain
    assert at(check_text(["K-POP 공연과 COVID-19 대응, 마음UP 운영"]), "abbreviation") == []


def test_site_terms_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "terms.tsv"
    site.write_text(
        "# 우리 기관 용어\n스쿨버스\t통학 버스\t기관 용어\n플랫폼\t\t철도 승강장 뜻으로 씀\n", encoding="utf-8"
    )
    lines = ["스쿨버스를 늘리고 플랫폼을 넓힌다."]
    before = [f.text for f in at(check_text(lines), "foreign-word")]
    assert before == ["플랫폼"]
    monkeypatch.setenv("DASAN_STYLE_TERMS", str(site))
    after = at(check_text(lines), "foreign-word")
    assert [(f.text, f.suggestion) for f in after] == [("스쿨버스", "통학 버스")]
    assert "기관 용어" in after[0].message
    assert len(load_terms()) > 80
    site.write_text("단어만 있는 줄\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="1번째 줄"):
        load_terms()
    monkeypatch.setenv("DASAN_STYLE_TERMS", str(tmp_path / "없는파일.tsv"))
    with pytest.raises(ConfigError, match="DASAN_STYLE_TERMS"):
        load_terms()


def test_bundled_term_list_is_well_formed() -> None:
    terms = load_terms()
    words = [t.word for t in terms]
    assert len(words) == len(set(words)) and len(terms) >= 80
    assert {"가이드라인", "거버넌스", "MOU", "R&D", "AI"} <= set(words)


def test_cli_json() -> None:
    path = str(shared_path("data", "press-moe", "105222.hwpx"))
    res = CliRunner().invoke(cli, ["press", "check", path, "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (entry,) = json.loads(res.stdout)
    assert entry["file"] == path
    assert entry["findings"] and set(entry["findings"][0]) == {"rule", "line", "text", "message", "suggestion"}
    assert {f["rule"] for f in entry["findings"]} <= set(RULE_LABELS)


def test_cli_text_and_unreadable_file(tmp_path: Path) -> None:
    good = tmp_path / "release.txt"
    good.write_text("보도자료\n보도시점: 2026. 3. 2.(월) 11:00\n가이드라인을 발표\n", encoding="utf-8")
    missing = tmp_path / "없음.hwpx"
    res = CliRunner().invoke(cli, ["press", "check", str(missing), str(good)], catch_exceptions=False)
    assert res.exit_code == 1
    assert "없음.hwpx" in res.stderr and "읽지 못했습니다" in res.stderr
    assert "3행 [외래어] '가이드라인' → '지침' 권장" in res.stdout
    assert "[연락처]" in res.stdout and "요약:" in res.stdout
    res = CliRunner().invoke(cli, ["press", "check", str(missing), "--json"], catch_exceptions=False)
    assert res.exit_code == 1
    (entry,) = json.loads(res.stdout)
    assert entry["findings"] == [] and entry["error"]
