"""Drafting a press release from a brief: brief validation, the extractive draft (nothing
invented), the HWPX in the real layout read back by the project's own reader and press parser,
previews, the CLI, background from the archive under access control, and the model path with a
fake OpenAI-compatible server (only facts, only within the backend's clearance)."""

from __future__ import annotations

import copy
import functools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fake_openai import FakeOpenAI

from dasan.apps.press.draft import (
    ARCHIVE_HEADING,
    Brief,
    Draft,
    DraftBullet,
    draft_release,
    render_html,
    render_markdown,
)
from dasan.apps.press.hwpx_writer import build_press_hwpx
from dasan.cli import cli
from dasan.config import REPO_ROOT
from dasan.errors import ConfigError
from dasan.ingest.detect import detect_format
from dasan.ingest.pipeline import ingest_paths
from dasan.ingest.press import PressRelease, parse_press_release
from dasan.ingest.readers import read_file
from dasan.llm.openai import OpenAIBackend
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.store import open_store
from dasan.types import Principal

EXAMPLE = REPO_ROOT / "docs" / "press_brief_example.yaml"

BRIEF: dict[str, Any] = {
    "ministry": "교육부",
    "bureau": "책임교육정책실",
    "department": "디지털교육기획과",
    "topic": "학교 인공지능 기초교육 지원",
    "title": "2026년 학교 인공지능 기초교육 지원 계획 발표",
    "subtitles": ["- 선도학교 1,200개교 지정, 교원 연수 3만 명으로 확대 -", "AI 학습도구 사전 인증제 2학기 시행"],
    "facts": [
        "교육부는 3월 2일(월) 「2026년 학교 인공지능 기초교육 지원 계획」을 발표한다.",
        "올해 인공지능 기초교육 선도학교는 1,200개교로, 지난해 800개교보다 400개교 늘어난다.",
        "인공지능 기초교육 교원 연수 인원은 지난해 2만 명에서 올해 3만 명으로 확대된다.",
    ],
    "body": [
        {"heading": "주요 내용", "bullets": [
            {"text": "선도학교에는 학교당 연 500만 원의 운영비를 지원한다.",
             "children": ["농산어촌 학교 200곳에는 원격 수업 장비를 우선 배정한다.",
                          "※ 신청은 3월 16일(월)부터 시·도교육청에서 받는다."]},
            "교원 연수는 기초과정과 심화과정으로 나누어 운영한다.",
        ]},
    ],
    "contacts": [
        {"role": "책임자", "position": "과장", "name": "한가람", "phone": "044-203-9610"},
        {"role": "담당자", "position": "사무관", "name": "윤서진", "phone": "(044-203-9614)"},
        {"role": "책임자", "bureau": "교원정책국", "department": "교원연수과", "position": "과장", "name": "박소율",
         "phone": "044-203-9720"},
        {"role": "담당자", "bureau": "교원정책국", "department": "교원연수과", "position": "주무관",
         "name": "정하늘", "phone": "044-203-9726"},
    ],
    "embargo": {"online": "2026-03-02T09:00+09:00", "print": "2026-03-03 조간"},
    "distributed": "2026-02-27T15:00+09:00",
    "attachments": ["2026년 학교 인공지능 기초교육 지원 계획(요약)", "선도학교 시·도별 지정 현황"],
}


def brief(**changes: Any) -> Brief:
    data = copy.deepcopy(BRIEF)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return Brief.from_dict(data, source="brief.yaml")


def all_bullets(d: Draft) -> Iterator[DraftBullet]:
    def walk(b: DraftBullet) -> Iterator[DraftBullet]:
        yield b
        for c in b.children:
            yield from walk(c)

    for s in d.sections:
        for b in s.bullets:
            yield from walk(b)


def write_brief(tmp_path: Path, data: dict[str, Any], name: str = "brief.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- brief
def test_example_brief_is_valid_and_drafts() -> None:
    b = Brief.load(EXAMPLE)
    assert b.ministry == "교육부" and b.department == "디지털교육기획과" and b.bureau == "책임교육정책실"
    assert b.embargo.edition == "조간" and b.embargo.online is not None
    assert len(b.contacts) >= 4 and {c.role for c in b.contacts} == {"책임자", "담당자"}
    d = draft_release(b)
    assert d.headline == b.title and len(d.contact_groups()) == 2


def test_brief_normalises_dates_phones_and_subtitles() -> None:
    b = brief()
    assert b.distributed.isoformat() == "2026-02-27T15:00:00+09:00"
    assert b.embargo.lines() == ["(인터넷) 2026. 3. 2.(월) 09:00", "(지  면) 2026. 3. 3.(화) 조간"]
    assert b.subtitles == ["선도학교 1,200개교 지정, 교원 연수 3만 명으로 확대", "AI 학습도구 사전 인증제 2학기 시행"]
    assert b.contacts[1].phone == "044-203-9614"
    b2 = brief(embargo="즉시", distributed="2026-02-27")
    assert b2.embargo.immediate and b2.embargo.lines() == ["배포 즉시 보도"]
    assert draft_release(b2).distributed_text == "2026. 2. 27.(금)"


@pytest.mark.parametrize(("changes", "field"), [
    ({"ministry": None}, "'ministry'"),
    ({"department": ""}, "'department'"),
    ({"facts": []}, "'facts'"),
    ({"title": None, "topic": None}, "'topic'"),
    ({"fact": ["오타 항목"]}, "'fact'"),
    ({"level": "극비"}, "'level'"),
    ({"distributed": "지난주 금요일"}, "'distributed'"),
    ({"embargo": {"online": "2026-02-26T09:00+09:00"}}, "'embargo.online'"),
    ({"embargo": {"print": "2026-03-03"}}, "'embargo.print'"),
    ({"embargo": {"online": "2026-03-02T09:00+09:00", "paper": "x"}}, "'embargo.paper'"),
    ({"embargo": "다음 주"}, "'embargo'"),
    ({"contacts": []}, "'contacts'"),
    ({"contacts": [{"role": "과장", "position": "과장", "name": "한가람", "phone": "044-203-9610"}]},
     "'contacts[0].role'"),
    ({"contacts": [{"role": "책임자", "position": "과장", "name": "한가람", "phone": "0442039610"}]},
     "'contacts[0].phone'"),
    ({"contacts": [{"role": "책임자", "position": "과장", "phone": "044-203-9610"}]}, "'contacts[0].name'"),
    ({"body": [{"heading": "주요 내용", "bullets": [{"txt": "오타"}]}]}, "'body[0].bullets[0].txt'"),
    ({"subtitles": {"a": 1}}, "'subtitles'"),
])
def test_validation_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        brief(**changes)
    assert field in str(e.value)
    assert "brief.yaml" in str(e.value)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in e.value.message)  # a Korean message


def test_unreadable_brief_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("ministry: 교육부\nfacts: [열린 괄호\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        Brief.load(bad)
    with pytest.raises(ConfigError, match="요지 파일이 없습니다"):
        Brief.load(tmp_path / "missing.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- 교육부\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="항목: 값"):
        Brief.load(listed)


# --------------------------------------------------------------------------- extractive draft
def test_extractive_draft_invents_nothing() -> None:
    b = brief()
    d = draft_release(b)
    allowed = b.texts()
    texts = [x.text for x in all_bullets(d)]
    assert texts and all(t in allowed for t in texts), [t for t in texts if t not in allowed]
    assert [x.text for x in d.sections[0].bullets] == b.facts  # facts verbatim, in order
    assert all(s.heading is None or s.heading in allowed for s in d.sections)
    assert d.lead == [] and d.generated_by == "brief" and d.sources == []
    assert d.headline == b.title and d.subtitles == b.subtitles
    lines = [f"{x.marker} {x.text}" for x in d.body_lines()]
    assert "□ 주요 내용" in lines and "○ 선도학교에는 학교당 연 500만 원의 운영비를 지원한다." in lines
    assert "- 농산어촌 학교 200곳에는 원격 수업 장비를 우선 배정한다." in lines
    assert "※ 신청은 3월 16일(월)부터 시·도교육청에서 받는다." in lines


def test_missing_title_uses_the_topic() -> None:
    d = draft_release(brief(title=None))
    assert d.headline == BRIEF["topic"]
    assert any("주제(topic)" in n for n in d.notes)


def test_model_name_as_string_is_refused() -> None:
    with pytest.raises(ConfigError):
        draft_release(brief(), backend="openai")
    assert draft_release(brief(), backend="extractive").generated_by == "brief"


# --------------------------------------------------------------------------- HWPX round trip
@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Brief, Draft, Path, PressRelease]:
    b = Brief.from_dict(copy.deepcopy(BRIEF), source="brief.yaml")
    d = draft_release(b)
    out = tmp_path_factory.mktemp("draft") / "draft.hwpx"
    d.write_hwpx(out)
    return b, d, out, parse_press_release(read_file(out))


def test_hwpx_is_a_valid_owpml_package(roundtrip) -> None:
    _, _, out, _ = roundtrip
    data = out.read_bytes()
    assert detect_format(data, out.name) == "hwpx"
    with zipfile.ZipFile(out) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"application/hwp+zip"
    hwpx = pytest.importorskip("hwpx")
    report = hwpx.validate_editor_open_safety(str(out))
    assert report.reopen_ok and not report.blocking_package_errors
    assert not report.validate_package.issues and not report.validate_document.issues


def test_hwpx_is_deterministic(roundtrip) -> None:
    _, d, out, _ = roundtrip
    assert build_press_hwpx(d.layout()) == out.read_bytes()


def test_hwpx_has_the_real_layout(roundtrip) -> None:
    _, _, out, _ = roundtrip
    doc = read_file(out)
    tables = [b.rows for b in doc.blocks if b.kind == "table"]
    assert tables[0] == [["교육부", "보도자료"]]
    # 배포 | date | (spacer) | 보도시점 | (인터넷) …, with the print edition in a second row
    assert tables[1] == [["배포", "2026. 2. 27.(금) 15:00", "", "보도시점", "(인터넷) 2026. 3. 2.(월) 09:00"],
                         ["", "", "", "", "(지  면) 2026. 3. 3.(화) 조간"]]
    assert tables[2][0] == [BRIEF["title"]]
    assert tables[2][1][0].splitlines() == ["- 선도학교 1,200개교 지정, 교원 연수 3만 명으로 확대 -",
                                            "- AI 학습도구 사전 인증제 2학기 시행 -"]
    contact = tables[-1]
    assert contact[0] == ["담당 부서", "책임교육정책실", "책임자", "과  장", "한가람", "(044-203-9610)"]
    assert contact[1][1:] == ["디지털교육기획과", "담당자", "사무관", "윤서진", "(044-203-9614)"]
    assert contact[2][:2] == ["담당 부서", "교원정책국"] and contact[3][1] == "교원연수과"
    paras = [b.text for b in doc.blocks if b.kind != "table"]
    assert paras[0].startswith("□ 교육부는 3월 2일(월)")
    assert "붙임  1. 2026년 학교 인공지능 기초교육 지원 계획(요약)" in paras
    assert paras.index("붙임  1. 2026년 학교 인공지능 기초교육 지원 계획(요약)") == len(paras) - 2


def test_roundtrip_headline_subtitles_and_dates(roundtrip) -> None:
    b, _, _, pr = roundtrip
    assert pr.title == b.title
    assert pr.subtitles == b.subtitles
    assert pr.ministry == "교육부"
    assert pr.distributed == "2026-02-27"
    assert pr.embargo == "2026-03-02T09:00:00+09:00"
    assert (pr.edition, pr.edition_date) == ("조간", "2026-03-03")
    assert not pr.immediate


def test_roundtrip_contacts_departments_and_attachments(roundtrip) -> None:
    b, _, _, pr = roundtrip
    assert pr.departments == ["책임교육정책실 디지털교육기획과", "교원정책국 교원연수과"]
    got = [(c.role, c.position, c.name, c.phones) for c in pr.contacts]
    assert got == [(c.role, c.position, c.name, [c.phone]) for c in b.contacts]
    assert [c.department for c in pr.contacts] == ["책임교육정책실 디지털교육기획과"] * 2 + ["교원정책국 교원연수과"] * 2
    assert [a.title for a in pr.attachments] == b.attachments
    top = [x.text for x in pr.bullets]
    assert top[: len(b.facts)] == b.facts


def test_roundtrip_immediate_release(tmp_path: Path) -> None:
    d = draft_release(brief(embargo="즉시", attachments=["사업 개요"]))
    out = tmp_path / "now.hwpx"
    d.write_hwpx(out)
    pr = parse_press_release(read_file(out))
    assert pr.immediate and pr.embargo is None
    assert pr.title == BRIEF["title"]
    assert [a.title for a in pr.attachments] == ["사업 개요"]


# --------------------------------------------------------------------------- previews
HOSTILE_FACT = '<script>alert("x")</script> 예산은 10억 원 & 대상은 <b>200곳</b>이다.'


def test_previews_show_the_headline_and_escape_html() -> None:
    d = draft_release(brief(facts=[HOSTILE_FACT], title="제목 <img src=x onerror=alert(1)>"))
    page = render_html(d)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ko">' in page and 'charset="utf-8"' in page
    assert "제목 &lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>" not in page and "<img" not in page and "<b>200곳" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "10억 원 &amp; 대상은" in page
    assert "한가람" in page and "(인터넷) 2026. 3. 2.(월) 09:00" in page
    md = render_markdown(d)
    assert "## 제목 &lt;img src=x onerror=alert(1)&gt;" in md
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;" in md
    assert "(지  면) 2026. 3. 3.(화) 조간" in md and "윤서진" in md


def test_markdown_preview_keeps_bullet_levels() -> None:
    md = render_markdown(draft_release(brief()))
    assert "- □ 교육부는 3월 2일(월)" in md
    assert "  - ○ 선도학교에는" in md
    assert "    - \\- 농산어촌 학교" in md  # the "-" marker cannot turn into a nested list
    assert "1. 2026년 학교 인공지능 기초교육 지원 계획(요약)" in md


# --------------------------------------------------------------------------- CLI
def test_cli_writes_hwpx_and_preview(tmp_path: Path) -> None:
    src = write_brief(tmp_path, BRIEF)
    out, html_path, data = tmp_path / "draft.hwpx", tmp_path / "draft.html", tmp_path / "no-store"
    res = CliRunner().invoke(cli, ["--data-dir", str(data), "press", "draft", str(src), "--out", str(out),
                                   "--preview", str(html_path)])
    assert res.exit_code == 0, res.output
    assert detect_format(out.read_bytes(), out.name) == "hwpx"
    assert BRIEF["title"] in html_path.read_text(encoding="utf-8")
    assert "보도자료 초안을 저장했습니다" in res.output and "저장소가 없어" in res.output
    assert not (data / "dasan.db").exists()  # drafting does not create a store


def test_cli_json_and_markdown(tmp_path: Path) -> None:
    src = write_brief(tmp_path, BRIEF)
    out, md = tmp_path / "d.hwpx", tmp_path / "d.md"
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "none"), "press", "draft", str(src),
                                   "--out", str(out), "--preview", str(md), "--json", "--no-background"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    assert obj["headline"] == BRIEF["title"] and obj["generated_by"] == "brief" and obj["sources"] == []
    assert obj["header"]["embargo"]["online"] == "2026-03-02T09:00:00+09:00"
    assert obj["header"]["departments"] == ["책임교육정책실 디지털교육기획과", "교원정책국 교원연수과"]
    assert md.read_text(encoding="utf-8").startswith("# 보도자료 · 교육부")
    # the draft went through the house-style check: header and contacts present, so no such findings
    rules = {f["rule"] for f in obj["style"]}
    assert "missing-embargo" not in rules and "missing-contact" not in rules


def test_cli_rejects_bad_arguments_and_briefs(tmp_path: Path) -> None:
    src = write_brief(tmp_path, BRIEF)
    runner = CliRunner()
    res = runner.invoke(cli, ["press", "draft", str(src), "--out", str(tmp_path / "d.docx")])
    assert res.exit_code == 2 and ".hwpx" in res.output
    res = runner.invoke(cli, ["press", "draft", str(src), "--out", str(tmp_path / "d.hwpx"),
                              "--preview", str(tmp_path / "d.pdf")])
    assert res.exit_code == 2 and ".md 또는 .html" in res.output
    bad = write_brief(tmp_path, {**BRIEF, "contacts": [{"role": "책임자", "position": "과장", "name": "한가람",
                                                        "phone": "국번 없이 110"}]}, "bad.yaml")
    res = runner.invoke(cli, ["--data-dir", str(tmp_path / "none"), "press", "draft", str(bad),
                              "--out", str(tmp_path / "d.hwpx")])
    assert res.exit_code == 1 and "contacts[0].phone" in res.output
    assert not (tmp_path / "d.hwpx").exists()


# --------------------------------------------------------------------------- background
SECRET = "비공개 협의안 KX-42"
PUBLIC = Principal(name="press-officer", clearance="공개")
TOP = Principal(name="chief", clearance="기밀", roles=("admin",))


def past_release(title: str, facts: list[str], *, online: str, distributed: str) -> dict[str, Any]:
    return {**copy.deepcopy(BRIEF), "title": title, "topic": title, "facts": facts, "body": [],
            "subtitles": [], "attachments": [], "embargo": {"online": online},
            "distributed": distributed}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with past releases written by the drafter itself: two public, one 기밀, one
    still under embargo, and one on another topic."""
    root = tmp_path_factory.mktemp("archive")
    data = root / "data"
    releases = {
        ("public", "r1"): past_release(
            "인공지능 기초교육 선도학교 800개교 지정",
            ["교육부는 인공지능 기초교육 선도학교 800개교를 지정했다고 밝혔다.",
             "선도학교는 인공지능 기초교육 교육과정을 시범 운영한다."],
            online="2025-03-04T12:00+09:00", distributed="2025-03-03T15:00+09:00"),
        ("public", "r2"): past_release(
            "학교 인공지능 기초교육 교원 연수 2만 명 돌파",
            ["인공지능 기초교육 교원 연수를 마친 교원이 2만 명을 넘었다.",
             "교육부는 학교 인공지능 기초교육 지원을 계속 늘린다."],
            online="2025-09-10T09:00+09:00", distributed="2025-09-09T15:00+09:00"),
        ("public", "other"): past_release(
            "여름철 급식 위생 점검 결과",
            ["여름철 학교 급식소 위생 점검에서 부적합 사례 12건을 찾아 시정했다."],
            online="2025-08-01T09:00+09:00", distributed="2025-07-31T15:00+09:00"),
        ("public", "held"): past_release(
            "학교 인공지능 기초교육 예산 확대 (보도 전)",
            ["학교 인공지능 기초교육 지원 예산을 내년에 두 배로 늘린다는 미공개 내용이다."],
            online="2099-01-05T09:00+09:00", distributed="2099-01-04T15:00+09:00"),
        ("secret", "r3"): past_release(
            "학교 인공지능 기초교육 지원 관계부처 협의 결과",
            [f"학교 인공지능 기초교육 지원 {SECRET}은 관계부처만 공유한다."],
            online="2025-11-20T09:00+09:00", distributed="2025-11-19T15:00+09:00"),
    }
    for (coll, name), raw in releases.items():
        folder = root / coll
        folder.mkdir(exist_ok=True)
        draft_release(Brief.from_dict(raw)).write_hwpx(folder / f"{name}.hwpx")
    store = open_store(data)
    ingest_paths(store, [root / "public"], collection="보도", classification="공개")
    ingest_paths(store, [root / "secret"], collection="보안", classification="기밀")
    assert {d.kind for d in store.list_documents()} == {"press"}
    store.close()
    return data


def draft_with_archive(data: Path, who: Principal, **kw: Any) -> Draft:
    store = open_store(data)
    try:
        retriever = Retriever(store, data, RetrievalConfig(embedder=None))
        return draft_release(brief(), store=store, principal=who, retriever=retriever, **kw)
    finally:
        store.close()


def test_background_cites_past_releases_the_principal_may_see(archive: Path) -> None:
    d = draft_with_archive(archive, PUBLIC)
    titles = [s.title for s in d.sources]
    assert titles == ["인공지능 기초교육 선도학교 800개교 지정", "학교 인공지능 기초교육 교원 연수 2만 명 돌파"]
    assert [s.date for s in d.sources] == ["2025-03-04", "2025-09-10"]  # oldest first
    assert {s.level for s in d.sources} == {"공개"} and d.level == "공개"
    sec = d.sections[-1]
    assert sec.heading == ARCHIVE_HEADING and sec.origin == "archive"
    assert sec.bullets[0].text == "2025. 3. 4. 「인공지능 기초교육 선도학교 800개교 지정」 보도자료"
    assert sec.bullets[0].source == 1 and sec.bullets[1].source == 2
    # every archive sentence is a verbatim sentence of the cited release
    quotes = [c.text for b in sec.bullets for c in b.children]
    assert quotes and all(q == s.quote for q, s in zip(quotes, d.sources, strict=True))
    store = open_store(archive)
    try:  # the quote is a sentence of the cited release's own text
        for src in d.sources:
            assert src.quote and src.quote in "\n".join(c.text for c in store.chunks_of(src.document_id))
    finally:
        store.close()
    text = json.dumps(d.to_dict(), ensure_ascii=False)
    assert SECRET not in text and "미공개 내용" not in text and "급식" not in text
    # brief bullets still come only from the brief
    allowed = brief().texts()
    assert all(b.text in allowed for b in all_bullets(d) if b.origin == "brief")


def test_background_for_a_cleared_principal_raises_the_drafts_level(archive: Path, tmp_path: Path) -> None:
    d = draft_with_archive(archive, TOP, max_sources=5)
    assert "학교 인공지능 기초교육 지원 관계부처 협의 결과" in [s.title for s in d.sources]
    assert d.level == "기밀" and any("초안 등급을 기밀" in n for n in d.notes)
    out = tmp_path / "top.hwpx"
    d.write_hwpx(out)
    assert ARCHIVE_HEADING in read_file(out).text


def test_background_respects_collection_and_reports_nothing_found(archive: Path) -> None:
    d = draft_with_archive(archive, TOP, collection="없는컬렉션")
    assert d.sources == [] and all(s.origin == "brief" for s in d.sections)
    assert any("과거 보도자료를 찾지 못해" in n for n in d.notes)


def test_cli_background_from_the_store_is_audited(archive: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import dasan.rag.retrieve as retrieve
    from dasan.security.audit import AuditLog

    monkeypatch.setattr(retrieve, "Retriever",
                        functools.partial(retrieve.Retriever, config=RetrievalConfig(embedder=None)))
    src = write_brief(tmp_path, BRIEF)
    out = tmp_path / "d.hwpx"
    res = CliRunner().invoke(cli, ["--data-dir", str(archive), "press", "draft", str(src), "--out", str(out),
                                   "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    assert len(obj["sources"]) == 3 and obj["level"] == "기밀"  # the local operator sees everything
    log = list(AuditLog(archive).export())
    start = [e for e in log if e["action"] == "search" and e["details"].get("purpose") == "press.draft"][-1]
    end = next(e for e in log if e["details"].get("start_seq") == start["seq"])
    assert end["details"]["outcome"] == "ok" and end["details"]["generated_by"] == "brief"
    assert end["details"]["chunk_ids"] == [s["chunk_id"] for s in obj["sources"]]


# --------------------------------------------------------------------------- model lead
SUPPORTED = "교육부는 3월 2일 2026년 학교 인공지능 기초교육 지원 계획을 발표한다."
INVENTED = "장관은 이번 계획에 1조 원을 투입한다고 강조했다."


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAI, list[list[dict[str, str]]]]]:
    seen: list[list[dict[str, str]]] = []

    def reply(messages: list[dict[str, str]]) -> str:
        seen.append(messages)
        return f"{SUPPORTED} {INVENTED}"

    with FakeOpenAI(reply=reply) as f:
        yield f, seen


def test_model_writes_the_lead_from_the_facts_only(fake, tmp_path: Path) -> None:
    server, seen = fake
    b = brief()
    with OpenAIBackend(server.url, server.model, retries=0) as llm:
        d = draft_release(b, backend=llm)
    assert len(seen) == 1
    sent = json.dumps(seen[0], ensure_ascii=False)
    assert all(json.dumps(f, ensure_ascii=False)[1:-1] in sent for f in b.facts)
    assert "한가람" not in sent and "044-203" not in sent  # contacts are not facts
    assert d.lead == [SUPPORTED]  # the unsupported sentence was dropped
    assert d.generated_by == server.model
    assert any("확인되지 않은 문장 1개" in n for n in d.notes)
    assert [x.text for x in d.sections[0].bullets] == b.facts  # facts verbatim
    out = tmp_path / "lead.hwpx"
    d.write_hwpx(out)
    assert parse_press_release(read_file(out)).lead == [SUPPORTED]


def test_model_never_sees_sources_or_material_above_its_clearance(fake, archive: Path) -> None:
    server, seen = fake
    with OpenAIBackend(server.url, server.model, retries=0) as llm:  # cleared for 공개 only
        d = draft_with_archive(archive, TOP, backend=llm, max_sources=5)
        assert d.level == "기밀" and seen  # the 공개 brief may go to the model …
        sent = json.dumps(seen, ensure_ascii=False)
        assert SECRET not in sent and "관계부처 협의" not in sent  # … never the archive
        assert all(s.title not in sent for s in d.sources)
        seen.clear()
        d2 = draft_release(brief(level="민감"), backend=llm)
    assert not seen and server.chat_requests == 1  # a 민감 brief is not sent to a 공개 backend
    assert d2.lead == [] and d2.generated_by == "brief"
    assert any("보낼 수 없어" in n for n in d2.notes)


def test_model_cleared_for_the_brief_level_is_used(fake) -> None:
    server, seen = fake
    with OpenAIBackend(server.url, server.model, retries=0, max_level="기밀") as llm:
        d = draft_release(brief(level="민감"), backend=llm)
    assert seen and d.lead == [SUPPORTED] and d.level == "민감"


def test_model_failure_falls_back_to_the_brief(fake) -> None:
    server, _ = fake
    server.faults = ["500"]
    with OpenAIBackend(server.url, server.model, retries=0) as llm:
        d = draft_release(brief(), backend=llm)
    assert d.lead == [] and d.generated_by == "brief"
    assert any("요지만으로 작성" in n for n in d.notes)


def test_cli_openai_backend(fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, seen = fake
    monkeypatch.setenv("DASAN_LLM_URL", server.url)
    monkeypatch.setenv("DASAN_LLM_MODEL", server.model)
    src = write_brief(tmp_path, BRIEF)
    out = tmp_path / "d.hwpx"
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "none"), "press", "draft", str(src),
                                   "--out", str(out), "--backend", "openai", "--json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.output)
    assert obj["lead"] == [SUPPORTED] and obj["generated_by"] == server.model and seen
