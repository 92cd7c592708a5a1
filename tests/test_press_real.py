"""Press releases as the Ministry of Education publishes them (../shared/data/press-moe).

Header fields are checked against the ministry website's listing (``<id>.meta.json``); the
embargo is checked on real header tables and on mutated copies of them, and it must fail
closed: a release that states a 보도시점 nobody can read is held at 민감 until an operator
sets or clears it.
"""

from __future__ import annotations

import io
import json
import math
import re
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.press import bench_press, title_matches
from dasan.cli import cli
from dasan.ingest.chunking import chunk_document
from dasan.ingest.pipeline import ingest_paths
from dasan.ingest.press import parse_press_release
from dasan.ingest.readers import read_file
from dasan.rag.retrieve import RetrievalConfig, Retriever, embargo_ts
from dasan.security import guard
from dasan.store import open_store
from dasan.types import Principal

#: HWPX and HWP 5.0 releases of different layouts (two times, 배포 즉시, 국무회의 종료 시,
#: 보도참고자료, a typo'd print year, several departments, stacked contacts).
SAMPLE = ["105086.hwp", "105222.hwpx", "105413.hwp", "105417.hwp", "105704.hwpx", "105736.hwpx",
          "105867.hwpx", "105967.hwpx", "106254.hwpx", "106549.hwpx", "106580.hwpx", "106764.hwpx"]


def _press(name: str) -> Path:
    return shared_path("data", "press-moe", name)


def _listing(name: str) -> dict:
    return json.loads(_press(name.split(".")[0] + ".meta.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", SAMPLE)
def test_header_fields_match_the_ministry_listing(name: str) -> None:
    doc = read_file(_press(name))
    pr = parse_press_release(doc)
    listing = _listing(name)
    assert title_matches(pr.title, listing["title"]), (pr.title, listing["title"])
    assert pr.ministry and pr.ministry != "광부"  # the logo cell is not the ministry
    if listing["division"]:
        assert any(listing["division"] in d for d in pr.departments), (pr.departments, listing["division"])
    name_listed = listing["contact"].split("(")[0].strip()
    phone_listed = re.search(r"\(([\d-]+)\)", listing["contact"])
    by_name = {c.name: c for c in pr.contacts}
    assert name_listed in by_name
    if phone_listed:
        assert phone_listed[1] in by_name[name_listed].phones
    assert all(c.name and c.phones for c in pr.contacts)
    assert pr.embargo is not None or pr.immediate  # every one of these states its 보도시점
    assert not any("044-" in b.full_text for b in pr.bullets)  # contact table kept out of the body


def test_two_embargo_times_the_earlier_one_ends_it() -> None:
    pr = parse_press_release(read_file(_press("106254.hwpx")))
    assert pr.title == "특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입"
    assert pr.distributed == "2026-05-22" and pr.distributed_at == "2026-05-22T15:00:00+09:00"
    assert pr.embargo_times == {"인터넷": "2026-05-25T09:00:00+09:00", "지면": "2026-05-26T06:00:00+09:00"}
    assert pr.embargo == "2026-05-25T09:00:00+09:00"
    assert (pr.edition, pr.edition_date) == ("조간", "2026-05-26")
    assert pr.subtitles[0] == "5월 27일부터 27개 모델 대상으로 유튜브 실시간 공개평가 시작"
    assert pr.doc_type == "보도자료" and pr.ministry == "교육부"


def test_special_embargo_values() -> None:
    meeting = parse_press_release(read_file(_press("105413.hwp")))  # "국무회의 종료 시"
    assert meeting.embargo == "2026-02-24T23:59:00+09:00" and meeting.embargo_estimated
    immediate = parse_press_release(read_file(_press("105704.hwpx")))  # "(인터넷) 배포 즉시"
    assert immediate.immediate and immediate.embargo is None and not immediate.embargo_hold
    typo = parse_press_release(read_file(_press("105417.hwp")))  # "(지 면) 2025. 2. 25." in a 2026 release
    assert typo.embargo == "2026-02-25T06:00:00+09:00"
    assert typo.embargo_times["지면"].startswith("2026-02-25")
    tags = parse_press_release(read_file(_press("105967.hwpx")))
    assert tags.tags and tags.tags[0].startswith("55-1.")
    assert tags.immediate and tags.distributed == "2026-04-24"


def test_bureau_division_and_stacked_contacts() -> None:
    pr = parse_press_release(read_file(_press("106580.hwpx")))
    assert pr.bureau == "대학정책관" and pr.division == "학술연구정책과"
    lead = pr.contacts[0]
    assert (lead.role, lead.position, lead.name, lead.phones) == ("책임자", "과장", "채홍준", ["044-203-6870"])
    stacked = parse_press_release(read_file(_press("105867.hwpx")))  # two people in one row's cells
    names = [c.name for c in stacked.contacts]
    assert "최지원" in names and "김민성" in names
    kim = next(c for c in stacked.contacts if c.name == "김민성")
    assert kim.phones == ["02-2100-6287"] and kim.department and "청소년자립지원과" in kim.department


def test_chunks_take_the_headline_as_context_never_header_lines() -> None:
    doc = read_file(_press("106254.hwpx"))
    chunks = chunk_document(doc, "d" * 64)
    assert doc.title == "특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입"
    for c in chunks:
        assert c.context.startswith(doc.title)
        assert "보도시점" not in c.context and "(인터넷)" not in c.context and "배포" not in c.context
        assert "044-203" not in c.text  # the contact table is metadata, not a passage
    assert doc.metadata["contacts"] and doc.metadata["division"] and doc.metadata["embargo_hold"] is False


# --------------------------------------------------------------------------- mutated headers
def _mutated(tmp_path: Path, name: str, replacements: list[tuple[str, str]]) -> Path:
    """A copy of a real HWPX release with text in its section XML replaced."""
    src = zipfile.ZipFile(_press(name))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "Contents/section0.xml":
                text = data.decode("utf-8")
                for old, new in replacements:
                    assert old in text, old
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            out.writestr(info, data)
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


ONLINE = "2026. 5. 25.(월)<hp:fwSpace/>09:00"
PRINT = "2026. 5. 26.(화) 조간"


@pytest.mark.parametrize(("online", "print_", "expect"), [
    ("추후 공지", "추후 공지", "hold"),  # stated, unreadable: fails closed
    ("2026. 13. 45.(월) 09:00", "미정", "hold"),  # impossible date
    ("추후 공지", PRINT, "2026-05-26T06:00:00+09:00"),  # one readable channel is enough
    ("2026. 5. 27.(수) 09:00", "2026. 5. 26.(화) 석간", "2026-05-26T12:00:00+09:00"),  # print earlier
    ("2026. 5. 25.(월) 오후 2시", PRINT, "2026-05-25T14:00:00+09:00"),
    ("2026. 5. 25.(월) 브리핑 시", PRINT, "2026-05-25T23:59:00+09:00"),
])
def test_mutated_embargo_values(tmp_path: Path, online: str, print_: str, expect: str) -> None:
    path = _mutated(tmp_path, "106254.hwpx", [(ONLINE, online), (PRINT, print_)])
    pr = parse_press_release(read_file(path))
    if expect == "hold":
        assert pr.embargo is None and pr.embargo_hold and not pr.immediate
    else:
        assert pr.embargo == expect and not pr.embargo_hold


def test_swapped_header_cells_and_missing_header(tmp_path: Path) -> None:
    # label cells renamed as other ministries write them
    path = _mutated(tmp_path, "106254.hwpx", [(">배포<", ">배포일시<"), (">보도시점<", ">보도일시<")])
    pr = parse_press_release(read_file(path))
    assert pr.embargo == "2026-05-25T09:00:00+09:00" and pr.distributed == "2026-05-22"


def test_unreadable_embargo_is_held_until_an_operator_sets_it(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _mutated(src, "106254.hwpx", [(ONLINE, "추후 공지"), (PRINT, "추후 공지")])
    data = tmp_path / "data"
    store = open_store(data)
    ingest_paths(store, [src], collection="보도자료")
    doc = store.list_documents()[0]
    assert doc.kind == "press" and doc.metadata["embargo_hold"] is True
    assert doc.title.startswith("특성화지방대학")
    assert embargo_ts(doc.metadata) == math.inf
    public = Principal(name="citizen", clearance="공개")
    sensitive = Principal(name="press-officer", clearance="민감")
    r = Retriever(store, data, RetrievalConfig(embedder=None))
    r.refresh()
    q = "글로컬대학 성과평가 유튜브 생중계"
    assert r.rank(q, 5, guard.search_filter(store, public)) == []
    assert r.rank(q, 5, guard.search_filter(store, sensitive))
    store.close()

    runner = CliRunner()
    shown = runner.invoke(cli, ["--data-dir", str(data), "docs", "show", doc.id[:10]])
    assert shown.exit_code == 0, shown.output
    assert "보류" in shown.output and "set-embargo" in shown.output
    bad = runner.invoke(cli, ["--data-dir", str(data), "docs", "set-embargo", doc.id[:10], "다음주"])
    assert bad.exit_code != 0 and "none" in bad.output
    ok = runner.invoke(cli, ["--data-dir", str(data), "docs", "set-embargo", doc.id[:10], "2026-05-25T09:00"])
    assert ok.exit_code == 0, ok.output
    store = open_store(data)
    meta = store.get_document(doc.id).metadata  # type: ignore[union-attr]
    assert meta["embargo"] == "2026-05-25T09:00:00+09:00" and not meta["embargo_hold"]
    assert meta["embargo_set_by"]
    r = Retriever(store, data, RetrievalConfig(embedder=None))
    r.refresh()
    assert time.time() > embargo_ts(meta)  # that time has passed: public now
    assert r.rank(q, 5, guard.search_filter(store, public))
    store.close()
    assert runner.invoke(cli, ["--data-dir", str(data), "docs", "set-embargo", doc.id[:10], "none"]).exit_code == 0
    shown = runner.invoke(cli, ["--data-dir", str(data), "docs", "show", doc.id[:10], "--json"])
    assert json.loads(shown.output)["embargo_status"].startswith("없음")


def test_bench_press_on_a_slice(tmp_path: Path) -> None:
    folder = tmp_path / "slice"
    folder.mkdir()
    for name in SAMPLE[:6]:
        stem = name.split(".")[0]
        (folder / name).write_bytes(_press(name).read_bytes())
        (folder / f"{stem}.meta.json").write_bytes(_press(f"{stem}.meta.json").read_bytes())
    (folder / "notes.txt").write_text("목록 정보가 없는 파일은 세지 않는다", encoding="utf-8")
    result = bench_press([folder])
    assert result["n"] == 6 and not result["failed"]
    assert set(result["fields"]) == {"title", "department", "contact", "embargo", "date"}
    assert result["fields"]["title"] == 1.0 and result["fields"]["embargo"] == 1.0
    out = CliRunner().invoke(cli, ["bench", "press", "--corpus", str(folder), "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["n"] == 6
