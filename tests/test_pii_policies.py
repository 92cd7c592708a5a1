"""Per-collection personal-data policies through ingest, search and answers (CLI)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dasan.cli import cli
from dasan.store import open_store

RRN = "900101-1234568"  # valid check digit
TEXT = f"민원 처리 기록\n신청인 홍길동(주민등록번호 {RRN})이 2026년 3월 2일 선로 소음 민원을 접수하였다.\n연락처 010-2345-6789."


def _run(data: Path, *args: str):
    res = CliRunner().invoke(cli, ["--data-dir", str(data), *args])
    return res


def _src(tmp_path: Path) -> Path:
    d = tmp_path / "src"
    d.mkdir()
    (d / "민원.txt").write_text(TEXT, encoding="utf-8")
    return d


def test_block_refuses_the_document_and_stores_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(data, "collections", "set-pii", "민원", "block").exit_code == 0
    res = _run(data, "ingest", str(_src(tmp_path)), "-c", "민원", "--json")
    assert res.exit_code == 1
    out = json.loads(res.output)
    assert out["failed"] and "주민등록번호 1건" in out["failed"][0]["error"] and RRN not in res.output
    store = open_store(data)
    assert store.list_documents("민원") == []
    store.close()


def test_mask_ingest_stores_masked_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(data, "collections", "set-pii", "민원", "mask_ingest")
    assert _run(data, "ingest", str(_src(tmp_path)), "-c", "민원").exit_code == 0
    store = open_store(data)
    [doc] = store.list_documents("민원")
    stored = " ".join(c.text for c in store.chunks_of(doc.id))
    store.close()
    assert RRN not in stored and "900101-1******" in stored and "010-****-6789" in stored


def test_mask_answer_keeps_the_record_but_masks_what_is_shown(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _run(data, "ingest", str(_src(tmp_path)), "-c", "민원").exit_code == 0  # default policy mask_answer
    store = open_store(data)
    [doc] = store.list_documents("민원")
    assert RRN in store.chunks_of(doc.id)[0].text  # staff can still find the record by its number
    store.close()
    hits = json.loads(_run(data, "search", "선로 소음 민원", "--json").output)
    assert hits and all(RRN not in h["text"] and RRN not in h["snippet"] for h in hits)
    assert "900101-1******" in hits[0]["text"]
    ans = json.loads(_run(data, "ask", "선로 소음 민원은 언제 접수되었나요?", "--json").output)
    blob = json.dumps(ans, ensure_ascii=False)
    assert not ans["refused"] and RRN not in blob and "2345-6789" not in blob
    shown = _run(data, "docs", "show", hits[0]["document_id"][:12], "--chunks", "--json").output
    assert RRN not in shown and "900101-1******" in shown


def test_off_shows_text_as_stored(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(data, "collections", "set-pii", "민원", "off")
    _run(data, "ingest", str(_src(tmp_path)), "-c", "민원")
    hits = json.loads(_run(data, "search", "선로 소음 민원", "--json").output)
    assert RRN in hits[0]["text"]


def test_only_admins_change_policies(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(data, "departments", "add", "민원과")
    _run(data, "users", "add", "kim", "--clearance", "민감", "--department", "민원과")
    res = _run(data, "--as", "kim", "collections", "set-pii", "민원", "off")
    assert res.exit_code != 0 and "관리자" in str(res.exception)


def test_block_set_after_ingest_withholds_answer_and_closest(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(data, "collections", "set-pii", "민원", "off")
    _run(data, "ingest", str(_src(tmp_path)), "-c", "민원")
    _run(data, "collections", "set-pii", "민원", "block")  # personal data already stored
    ans = json.loads(_run(data, "ask", "선로 소음 민원은 언제 접수되었나요?", "--json").output)
    blob = json.dumps(ans, ensure_ascii=False)
    assert ans["refused"] and not ans["citations"] and RRN not in blob
    assert json.loads(_run(data, "search", "선로 소음 민원", "--json").output) == []
