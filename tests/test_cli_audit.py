"""Every CLI access is audited; when the audit log cannot be written the operation does not run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dasan.cli import cli
from dasan.errors import AuditError
from dasan.security.audit import AuditLog


def _run(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def test_operations_leave_a_verifiable_trail(tmp_path: Path) -> None:
    data, src = tmp_path / "d", tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("선로 작업 전에는 작업계획서를 제출한다.", encoding="utf-8")
    assert _run(data, "ingest", str(src), "-c", "현장").exit_code == 0
    hits = json.loads(_run(data, "search", "작업계획서", "--json").output)
    ans = json.loads(_run(data, "ask", "선로 작업 전에 무엇을 내나요?", "--json").output)
    doc = hits[0]["document_id"]
    assert _run(data, "docs", "show", doc[:10]).exit_code == 0
    assert _run(data, "docs", "set-level", doc[:10], "민감").exit_code == 0
    assert _run(data, "docs", "rm", doc[:10]).exit_code == 0
    log = AuditLog(data)
    ends = [e for e in log.export() if e["details"].get("phase") == "end"]
    actions = [e["action"] for e in ends]
    assert actions == ["document.upload", "search", "answer", "document.read", "permission.change", "document.delete"]
    assert ends[1]["details"]["chunk_ids"] == [h["chunk_id"] for h in hits]
    assert ends[2]["details"]["chunk_ids"] == [c["chunk_id"] for c in ans["citations"]]
    assert ends[2]["details"]["backend_used"] == "extractive"
    assert log.verify().ok


def test_an_unwritable_audit_log_stops_the_operation(tmp_path: Path) -> None:
    data, src = tmp_path / "d", tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("선로 작업 전에는 작업계획서를 제출한다.", encoding="utf-8")
    assert _run(data, "ingest", str(src)).exit_code == 0
    for f in data.glob("audit.db*"):
        f.unlink()
    (data / "audit.db").mkdir()  # the log cannot be opened or written
    res = _run(data, "search", "작업계획서", "--json")
    assert isinstance(res.exception, AuditError)
    assert "작업계획서" not in res.output  # nothing was shown unlogged
