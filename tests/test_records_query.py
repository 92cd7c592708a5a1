"""Accident registers as records: typed columns, Korean questions turned into structured queries,
counts checked against counts computed directly from the CSV file."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from dasan import config
from dasan.apps.field.records import answer, load_tables, parse_question
from dasan.cli import cli
from dasan.ingest.pipeline import ingest_paths
from dasan.store import open_store

REGISTER = config.examples_dir() / "records" / "철도사고_기록_2025.csv"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with REGISTER.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _ingested(tmp_path_factory: pytest.TempPathFactory, register: Path) -> Path:
    d = tmp_path_factory.mktemp("records")
    store = open_store(d)
    assert not ingest_paths(store, [register], collection="현장기록").summary()["failed"]
    store.close()
    return d


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ingested(tmp_path_factory, REGISTER)


def _ask(data: Path, q: str):
    ans = answer(q, load_tables(open_store(data)))
    assert ans is not None
    return ans


def test_columns_are_typed(data: Path) -> None:
    [t] = load_tables(open_store(data))
    assert t.kinds["발생일시"] == "date" and t.kinds["노선"] == "category"
    assert len(t.rows) == 30 and t.rows[0].fields["사고번호"].startswith("R-2025-")
    chunk = open_store(data).get_chunks([t.rows[0].chunk_id])[0]
    assert chunk.meta["fields"]["노선"]  # new ingests keep the cells as fields


def test_counts_match_the_file(data: Path, rows: list[dict[str, str]]) -> None:
    ans = _ask(data, "2025년에 2호선에서 사고가 몇 건 있었나요?")
    expected = [r for r in rows if r["노선"] == "2호선" and r["발생일시"].startswith("2025")]
    assert ans.query.aggregate == "count" and len(ans.matched) == len(expected) > 0
    assert {r.record_id for r in ans.matched} == {r["사고번호"] for r in expected}
    assert "노선 = 2호선" in ans.query.describe() and "발생일시 2025-01-01 ~ 2025-12-31" in ans.query.describe()

    ans = _ask(data, "감전 사고는 몇 번이었어?")
    assert len(ans.matched) == sum("감전" in r["사고유형"] for r in rows)

    ans = _ask(data, "가온역에서 난 사고")
    assert {r.record_id for r in ans.matched} == {r["사고번호"] for r in rows if "가온역" in r["역/구간"]}


def test_group_by_and_top(data: Path, rows: list[dict[str, str]]) -> None:
    ans = _ask(data, "노선별 사고 건수")
    assert ans.query.group_by == "노선"
    assert [(v, n) for v, n, _ in ans.groups] == sorted(Counter(r["노선"] for r in rows).items(),
                                                        key=lambda x: (-x[1], x[0]))
    ans = _ask(data, "사고가 가장 많은 역은?")
    assert ans.query.group_by == "역/구간"
    top = Counter(r["역/구간"] for r in rows).most_common(1)[0][1]
    assert ans.groups[0][1] == top


def test_relative_time_and_latest(data: Path, rows: list[dict[str, str]]) -> None:
    ans = _ask(data, "올해 3월에 있었던 사고")  # "올해" = the register's newest year
    assert {r.record_id for r in ans.matched} == {r["사고번호"] for r in rows if r["발생일시"].startswith("2025-03")}
    ans = _ask(data, "최근 3건 보여줘")
    latest = sorted(rows, key=lambda r: r["발생일시"], reverse=True)[:3]
    assert [r.record_id for r in ans.matched[:3]] == [r["사고번호"] for r in latest]
    assert "최근 3건" in ans.text()


def test_everyday_equipment_names_are_not_dropped(data: Path, rows: list[dict[str, str]]) -> None:
    """"스크린도어" must narrow the count (to 승강장안전문 rows), not be ignored."""
    ans = _ask(data, "스크린도어 끼임 사고 몇 건?")
    words = ("스크린도어", "승강장안전문", "안전문")
    expected = [r for r in rows if any(w in "".join(r.values()).replace(" ", "") for w in words)
                and "끼임" in r["사고유형"]]
    assert len(ans.matched) == len(expected)
    assert "안전문" in ans.query.describe()


def test_parse_without_a_date_column() -> None:
    from dasan.apps.field.records import Record, Table, infer_kinds

    rows = [Record(str(i), f"c{i}", f"t #{i}", {"역": s, "유형": k}) for i, (s, k) in
            enumerate([("가온역", "끼임"), ("가온역", "넘어짐"), ("새솔역", "끼임")] * 3)]
    t = Table("d", "t", rows, infer_kinds(rows))
    q = parse_question("가온역 끼임 몇 건", t, date(2025, 1, 1))
    assert [f.describe() for f in q.filters] == ["역 = 가온역", "유형 = 끼임"] and q.aggregate == "count"


def test_cli_and_access(data: Path) -> None:
    run = CliRunner().invoke
    out = run(cli, ["--data-dir", str(data), "records", "query", "노선별 사고 건수"])
    assert out.exit_code == 0 and "1호선" in out.output and "R-2025-" in out.output
    from dasan.types import Principal

    public = Principal(name="kim", clearance="공개", roles=("user",))
    store = open_store(data)
    assert load_tables(store, public)  # a 공개 register is visible
    store.set_collection_level("현장기록", "민감")
    assert load_tables(store, public) == []  # a 민감 register is not


def test_typed_registers_are_reused_until_the_store_changes(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A register is read and typed once per store generation; access is judged on every call."""
    from dasan.types import Principal

    store = open_store(_ingested(tmp_path_factory, REGISTER))
    [a] = load_tables(store)
    [b] = load_tables(store)
    assert a is b  # nothing changed: the same typed rows
    assert store.set_collection_pii_policy("현장기록", "off")
    [c] = load_tables(store)
    assert c is not a and [r.fields for r in c.rows] == [r.fields for r in a.rows]  # re-read after a write
    public = Principal(name="kim", clearance="공개", roles=("user",))
    assert load_tables(store, public)
    store.set_collection_level("현장기록", "민감")
    assert load_tables(store, public) == []  # a cached table is never handed out unchecked


# -- the example operator's register (examples/field, written by scripts/make_field_register.py) ---
FIELD = config.examples_dir() / "field" / "한빛도시철도_사고대장_2021-2025.xlsx"


@pytest.fixture(scope="module")
def field_rows() -> list[dict[str, str]]:
    from openpyxl import load_workbook

    ws = load_workbook(FIELD, read_only=True).active
    values = [[("" if c is None else str(c)) for c in row] for row in ws.iter_rows(values_only=True)]
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


@pytest.fixture(scope="module")
def field_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ingested(tmp_path_factory, FIELD)


def test_the_example_register_is_what_its_script_writes(field_rows: list[dict[str, str]]) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_field_register",
                                                  config.REPO_ROOT / "scripts" / "make_field_register.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    assert [list(r.values()) for r in field_rows] == mod.rows()
    assert len(field_rows) >= 300


def _any(r: dict[str, str], *words: str) -> bool:
    flat = "".join(r.values()).replace(" ", "")
    return any(w in flat for w in words)


def test_field_register_counts(field_data: Path, field_rows: list[dict[str, str]]) -> None:
    tables = load_tables(open_store(field_data))
    a = answer("작년에 2호선에서 스크린도어 끼임이 몇 건?", tables)
    newest = max(r["발생일시"][:4] for r in field_rows)
    expected = {r["사고번호"] for r in field_rows if r["발생일시"].startswith(str(int(newest) - 1))
                and r["호선"] == "2호선" and "끼임" in r["사고유형"] and _any(r, "스크린도어", "승강장안전문", "안전문")}
    assert a is not None and {r.record_id for r in a.matched} == expected and expected

    a = answer("여름에 레일 온도 사고 몇 번?", tables)
    expected = {r["사고번호"] for r in field_rows if r["발생일시"][5:7] in ("06", "07", "08")
                and r["사고유형"] == "레일 온도 상승"}
    assert a is not None and {r.record_id for r in a.matched} == expected

    a = answer("에스컬레이터 사고가 가장 많은 역은?", tables)
    counts = Counter(r["역"] for r in field_rows if r["장소"] == "에스컬레이터")
    assert a is not None and a.groups[0][1] == counts.most_common(1)[0][1]
    assert {v for v, n, _ in a.groups if n == a.groups[0][1]} == {s for s, n in counts.items()
                                                                  if n == counts.most_common(1)[0][1]}


def test_similar_incidents_find_the_same_kind_with_what_was_done(field_data: Path,
                                                                  field_rows: list[dict[str, str]]) -> None:
    from dasan.apps.field.records import similar, similar_text

    [t] = load_tables(open_store(field_data))
    for description, kind in (("대합실 매점에서 연기가 나요", "화재(연기)"),
                              ("에스컬레이터에서 할머니가 넘어지셨어요", "에스컬레이터 넘어짐"),
                              ("선로 작업 중에 작업자가 레일에 발을 다쳤습니다", "선로작업자 부상"),
                              ("2호선 승강장에서 승객이 스크린도어에 끼었어요", "승강장안전문 끼임")):
        items = similar(description, t, k=3, today=date(2025, 7, 1))
        assert items and all(it.record.fields["사고유형"] == kind for it in items), (description, items)
    text = similar_text(similar("대합실 매점에서 연기가 나요", t, k=2), t)
    assert "재발방지대책:" in text and "조치:" in text and "HB-" in text
    assert similar("오늘 점심 메뉴 추천해 줘", t) == []  # nothing in common: nothing returned


def test_similar_cli(field_data: Path) -> None:
    out = CliRunner().invoke(cli, ["--data-dir", str(field_data), "records", "similar", "에스컬레이터 넘어짐", "--k", "2",
                                   "--json"])
    assert out.exit_code == 0, out.output
    import json as _json

    body = _json.loads(out.output)
    assert len(body[0]["records"]) == 2 and body[0]["records"][0]["citation"].startswith("한빛도시철도")
