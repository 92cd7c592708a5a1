"""End-to-end ingestion through the CLI on real files: statutes, bad input, re-ingest, crashes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.cli import cli
from dasan.store import open_store

ARTICLE_HEADING = re.compile(r"^#{2,6}\s*(제\d+조(?:의\d+)?)\s*(?:\(|$|\s)")


def run_cli(data_dir: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], catch_exceptions=False)
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def laws_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    laws = shared_path("data", "laws")
    d = tmp_path_factory.mktemp("laws-store")
    code, out = run_cli(d, "ingest", str(laws), "--recursive", "--collection", "laws", "--json")
    return d, {"code": code, "summary": json.loads(out)}


def test_law_corpus_ingests_all_85_files(laws_store: tuple[Path, dict]) -> None:
    _, res = laws_store
    s = res["summary"]
    assert res["code"] == 0, s["failed"]
    assert s["files"] == 85 and s["ingested"] == 85 and s["failed"] == [] and s["empty"] == []
    assert s["chunks"] > 3000


@pytest.mark.parametrize(
    ("citation", "phrase"),
    [
        ("철도안전법 제41조", "술"),
        ("철도안전법 시행령 제60조의6", "3명 이하의 인원"),
        ("재난 및 안전관리 기본법 제66조의12", ""),
    ],
)
def test_known_citations_have_their_text(laws_store: tuple[Path, dict], citation: str, phrase: str) -> None:
    d, _ = laws_store
    store = open_store(d)
    chunks = store.find_chunks_by_citation(citation)
    store.close()
    assert chunks, f"no chunk cites {citation}"
    text = "\n".join(c.text for c in chunks)
    assert phrase in text
    assert all(c.citation.article == citation.split(" ")[-1] for c in chunks)


def test_disaster_law_article_66_12_text_matches_source(laws_store: tuple[Path, dict]) -> None:
    d, _ = laws_store
    src = shared_path("data", "laws", "재난및안전관리기본법", "법률.md").read_text(encoding="utf-8")
    body = src.split("##### 제66조의12", 1)[1].split("\n#####", 1)[0]
    first_line = next(ln for ln in body.splitlines()[1:] if ln.strip())
    words = re.sub(r"\*\*|<[^>]+>", "", first_line).split()[:6]
    store = open_store(d)
    text = " ".join(c.text for c in store.find_chunks_by_citation("재난 및 안전관리 기본법 제66조의12"))
    store.close()
    assert " ".join(words[1:5]) in re.sub(r"\s+", " ", text)


def _source_articles(md: Path) -> set[str]:
    """Body articles of a statute markdown file, deleted ones excluded, 부칙 excluded."""
    arts: set[str] = set()
    lines = md.read_text(encoding="utf-8").splitlines()
    in_addenda = False
    for i, ln in enumerate(lines):
        if re.match(r"^#{1,6}\s*부\s*칙", ln):
            in_addenda = True
        m = ARTICLE_HEADING.match(ln)
        if m and not in_addenda:
            nxt = next((x for x in lines[i + 1:] if x.strip()), "")
            if re.match(r"^\s*삭제\s*[<\[]", nxt) or re.search(r"\)\s*삭제\s*[<\[]", ln):
                continue
            arts.add(m.group(1))
    return arts


def test_article_counts_per_statute_match_source(laws_store: tuple[Path, dict]) -> None:
    d, _ = laws_store
    store = open_store(d)
    by_doc: dict[str, set[str]] = {}
    for doc in store.list_documents("laws"):
        by_doc[doc.source_path] = {
            c.citation.article for c in store.chunks_of(doc.id)
            if c.citation.article and "부칙" not in c.citation.label
        }
    store.close()
    mismatches = []
    for md in sorted(shared_path("data", "laws").rglob("*.md")):
        expected = _source_articles(md)
        got = by_doc[str(md.resolve())]
        if expected != got:
            mismatches.append((md.name, len(expected), len(got), sorted(expected ^ got)[:5]))
    assert not mismatches, mismatches


def test_reingest_unchanged_does_nothing(laws_store: tuple[Path, dict]) -> None:
    d, _ = laws_store
    code, out = run_cli(d, "ingest", str(shared_path("data", "laws")), "--recursive", "--collection", "laws", "--json")
    s = json.loads(out)
    assert code == 0 and s["unchanged"] == 85 and s["ingested"] == 0 and s["chunks"] == 0


def test_changed_file_replaces_its_chunks_and_rm_removes(tmp_path: Path, data_dir: Path) -> None:
    src = shared_path("data", "laws", "청년기본법", "법률.md").read_text(encoding="utf-8")
    f = tmp_path / "청년 기본법.md"
    f.write_text(src, encoding="utf-8")
    assert run_cli(data_dir, "ingest", str(f), "--json")[0] == 0
    store = open_store(data_dir)
    [doc1] = store.list_documents()
    f.write_text(src.replace("##### 제1조 (목적)\n\n", "##### 제1조 (목적)\n\n이 문장은 개정되었다. "), encoding="utf-8")
    code, out = run_cli(data_dir, "ingest", str(f), "--json")
    assert code == 0 and json.loads(out)["ingested"] == 1
    [doc2] = store.list_documents()
    new_chunks = store.chunks_of(doc2.id)
    assert doc2.id != doc1.id and store.chunks_of(doc1.id) == []
    assert any("개정되었다" in c.text for c in new_chunks)
    code, out = run_cli(data_dir, "docs", "rm", doc2.id[:10], "--json")
    assert code == 0 and json.loads(out)["removed"] == [doc2.id]
    assert store.list_documents() == [] and list(store.iter_chunks()) == []
    store.close()


def _zip_bomb(path: Path, member_mb: int = 600) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip")
        with zf.open("Contents/section0.xml", "w", force_zip64=True) as w:
            block = b"\0" * (1 << 20)
            for _ in range(member_mb):
                w.write(block)


def test_bad_input_batch_continues_with_clear_errors(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "나쁜 입력 폴더"
    folder.mkdir()
    (folder / "빈 파일.txt").write_bytes(b"")
    hwp = shared_path("data", "hwp-samples", "hwp", "table.hwp").read_bytes()
    (folder / "잘린 문서.hwp").write_bytes(hwp[: len(hwp) // 2])
    (folder / "무작위.hwpx").write_bytes(os.urandom(4096))
    with open(folder / "거대한 파일.txt", "wb") as big:
        big.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, no disk used
    _zip_bomb(folder / "압축 폭탄.hwpx")
    good = folder / "정상 문서 (공백 포함).md"
    good.write_text("# 안전 수칙\n\n선로 작업 전에는 반드시 열차 운행을 차단한다.\n", encoding="utf-8")
    t0 = time.monotonic()
    code, out = run_cli(data_dir, "ingest", str(folder), "--json")
    elapsed = time.monotonic() - t0
    s = json.loads(out)
    assert code == 1
    assert s["files"] == 6 and s["ingested"] == 1
    failed = {Path(f["path"]).name: f["error"] for f in s["failed"]}
    assert set(failed) == {"빈 파일.txt", "잘린 문서.hwp", "무작위.hwpx", "거대한 파일.txt", "압축 폭탄.hwpx"}
    for name, err in failed.items():
        assert re.search(r"[가-힣]", err), (name, err)  # Korean, human-readable
        assert "Traceback" not in err
    assert "빈 파일" in failed["빈 파일.txt"]
    assert "너무 큽니다" in failed["거대한 파일.txt"]
    assert elapsed < 120
    store = open_store(data_dir)
    [doc] = store.list_documents()
    assert doc.source_path.endswith("정상 문서 (공백 포함).md")
    assert store.check_consistency() == []
    store.close()


def test_human_output_names_each_failure(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "x.hwpx").write_bytes(b"PK\x03\x04 not really a zip")
    code, out = run_cli(data_dir, "ingest", str(tmp_path / "x.hwpx"), str(tmp_path / "없는파일.pdf"))
    assert code == 1
    assert "x.hwpx" in out and "없는파일.pdf" in out and "실패 2" in out


def test_kill_9_during_ingest_leaves_store_consistent(tmp_path: Path) -> None:
    laws = shared_path("data", "laws")
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "dasan.cli", "--data-dir", str(data), "ingest", str(laws), "--recursive", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            db = data / "dasan.db"
            if db.exists():
                s = open_store(data)
                n = len(s.list_documents())
                s.close()
                if n >= 5:
                    break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    store = open_store(data)
    assert store.check_consistency() == []
    before = len(store.list_documents())
    store.close()
    assert 5 <= before < 85
    code, out = run_cli(data, "ingest", str(laws), "--recursive", "--json")
    s = json.loads(out)
    assert code == 0 and s["unchanged"] + s["ingested"] == 85 and s["unchanged"] >= before


def test_docs_list_show_and_collections(tmp_path: Path, data_dir: Path) -> None:
    f = tmp_path / "매뉴얼.md"
    f.write_text("---\ntitle: 현장 매뉴얼\n---\n# 대피\n\n열차가 접근하면 대피 공간으로 이동한다.\n", encoding="utf-8")
    run_cli(data_dir, "ingest", str(f), "--collection", "manuals")
    code, out = run_cli(data_dir, "docs", "list", "--json")
    [d] = json.loads(out)
    assert d["title"] == "현장 매뉴얼" and d["collection"] == "manuals" and d["format"] == "md"
    code, out = run_cli(data_dir, "docs", "show", d["id"][:8], "--chunks", "--json")
    shown = json.loads(out)
    assert any("대피 공간" in c["text"] for c in shown["chunks"])
    code, out = run_cli(data_dir, "collections", "--json")
    assert json.loads(out)[0]["name"] == "manuals" and json.loads(out)[0]["documents"] == 1
    code, out = run_cli(data_dir, "docs", "show", "ffffffffff")
    assert code != 0 and "찾을 수 없습니다" in out
