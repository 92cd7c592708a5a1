"""Procedures as ordered checklists: the operator's manual first, 행정안전부 국민행동요령 second
(read from the real ../shared/data/safety-guides steps), each step in the source's order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan import config
from dasan.apps.field.procedures import GUIDE, MANUAL, checklist_text, checklists, steps_of
from dasan.cli import cli
from dasan.ingest.pipeline import ingest_paths
from dasan.ingest.readers import read_file
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.store import open_store

CATEGORIES = ("철도·지하철·유도선 사고", "전기·가스사고")


@pytest.fixture(scope="module")
def guides(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A slice of the real guides file (two categories), as an agency would load it."""
    src = shared_path("data", "safety-guides", "mois_action_guides.jsonl")
    lines = [x for x in src.read_text(encoding="utf-8").splitlines()
             if x.strip() and json.loads(x).get("category2") in CATEGORIES]
    out = tmp_path_factory.mktemp("guides") / "mois_action_guides.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, guides: Path) -> Path:
    d = tmp_path_factory.mktemp("field-store")
    store = open_store(d)
    report = ingest_paths(store, [config.examples_dir() / "manuals", guides], collection="현장", recursive=True)
    assert not report.summary()["failed"]
    store.close()
    return d


def test_steps_keep_their_order() -> None:
    text = "머리말\n1. 첫째\n2) 둘째\n3. 셋째\n1. 다른 목록"
    assert [(s.n, s.text) for s in steps_of(text)] == [(1, "첫째"), (2, "둘째"), (3, "셋째")]
    assert [s.n for s in steps_of("① 가\n② 나")] == [1, 2]
    assert [(s.n, s.text) for s in steps_of("(1) 신고\n(2) 대피")] == [(1, "신고"), (2, "대피")]
    assert [s.n for s in steps_of("가. 신고\n나. 대피\n다. 보고")] == [1, 2, 3]
    assert steps_of("가스가 새면\n다음 날 점검") == []


def test_action_guides_are_read_as_ordered_procedures(guides: Path) -> None:
    doc = read_file(guides)
    assert doc.metadata.get("source_kind") == "action_guide" and doc.title == "국민행동요령"
    raw = [json.loads(x) for x in guides.read_text(encoding="utf-8").splitlines()]
    name = "지하철 화재발생시 대피요령"
    expected = [r["text"].strip() for r in sorted((r for r in raw if r.get("guide") == name and r.get("text")),
                                                  key=lambda r: (r["main_order"], r["sub_order"]))]
    start = next(i for i, b in enumerate(doc.blocks) if b.kind == "heading" and b.text == name)
    items = []
    for b in doc.blocks[start + 1:]:
        if b.kind == "heading":
            break
        items.append(b.text)
    assert items == expected and len(items) >= 3


def test_manual_first_then_guide(data: Path) -> None:
    store = open_store(data)
    r = Retriever(store, data, RetrievalConfig(model=None))
    items = checklists("감전 사고가 나면 뭐부터 해요?", r)
    assert [c.source for c in items] == [MANUAL, GUIDE]
    manual = items[0]
    assert manual.section.endswith("3.3 감전 사고 발생 시")
    assert [s.n for s in manual.steps] == [1, 2, 3, 4] and "맨손" in manual.steps[0].text
    assert "전기·가스사고" in items[1].section
    assert manual.citation(manual.steps[1]).endswith("3.3 감전 사고 발생 시 2단계")


def test_no_manual_section_is_said_not_invented(data: Path) -> None:
    store = open_store(data)
    r = Retriever(store, data, RetrievalConfig(model=None))
    items = checklists("열차 안에서 연기가 나요, 뭐부터 해요?", r)
    assert [c.source for c in items] == [GUIDE] and "철도·지하철" in items[0].section
    assert checklist_text(items).startswith(f"[{MANUAL}] 이 상황에 맞는 절차를 찾지 못했습니다.")
    assert "근거 없이" in checklist_text([])


def test_field_steps_cli(data: Path) -> None:
    out = CliRunner().invoke(cli, ["--data-dir", str(data), "field", "steps", "감전 사고가 나면 뭐부터 해요?", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body[0]["source"] == MANUAL and body[0]["steps"][0]["citation"].endswith("1단계")
