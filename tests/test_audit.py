"""Tamper-evident audit log: chain, tamper detection by raw SQL edits, concurrency, export, CLI."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from dasan.config import REPO_ROOT
from dasan.security import audit as audit_mod
from dasan.security.audit import GENESIS, AuditError, AuditLog, audited, entry_hash, read_head
from dasan.security.audit_cli import audit as audit_group


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASAN_AUDIT_KEY", raising=False)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")  # no fsync per append: keeps the suite fast


def _fill(log: AuditLog, n: int) -> None:
    for i in range(1, n + 1):
        log.append("search", f"user{i % 3}", "default", query=f"선로 작업 {i}", chunk_ids=[f"c{i}a", f"c{i}b"],
                   backend="extractive", level="공개")


def _sql(data_dir: Path, *statements: str) -> None:
    conn = sqlite3.connect(data_dir / "audit.db")
    with conn:
        for s in statements:
            conn.execute(s)
    conn.close()


def _named(log: AuditLog) -> set[tuple[int, str]]:
    report = log.verify()
    assert not report.ok
    return {(p.seq, p.kind) for p in report.problems}


def test_append_and_verify_ok(data_dir: Path) -> None:
    log = AuditLog(data_dir, durable=True)
    e1 = log.append("login", "kim", method="password")
    e2 = log.append("answer", "kim", "default", question="대피 방법?", chunk_ids=["x1", "x2"], backend="extractive")
    assert (e1.seq, e1.parent, e2.seq, e2.parent) == (1, GENESIS, 2, e1.hash)
    assert e2.details == {"question": "대피 방법?", "chunk_ids": ["x1", "x2"], "backend": "extractive"}
    assert e1.ts.endswith("Z") and len(e1.ts) == len("2026-01-01T00:00:00.000Z") and e2.ts >= e1.ts
    report = log.verify()
    assert report.ok and report.checked == 2 and report.problems == []
    assert read_head(data_dir / "audit.head") == audit_mod.Head(2, e2.hash)
    assert [e.seq for e in log.tail(1)] == [2]


def test_canonical_form_matches_docstring(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    e = log.append("document.upload", "이순신", "문서 1.hwp", size=12, tags={"b", "a"}, path=Path("/x/y"))
    assert e.details == {"size": 12, "tags": ["a", "b"], "path": "/x/y"}
    obj = {"v": 1, "seq": e.seq, "ts": e.ts, "actor": e.actor, "action": e.action, "target": e.target,
           "parent": e.parent, "details": e.details}
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert hashlib.sha256(raw).hexdigest() == e.hash == entry_hash(e.to_dict())
    stored = sqlite3.connect(data_dir / "audit.db").execute("SELECT details FROM entries").fetchone()[0]
    assert stored == json.dumps(e.details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_edited_details_named(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 10)
    _sql(data_dir, """UPDATE entries SET details = '{"query":"다른 질문"}' WHERE seq = 4""")
    assert _named(log) == {(4, "edited")}


def test_edited_and_rehashed_entry_named(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 6)
    row = sqlite3.connect(data_dir / "audit.db").execute("SELECT * FROM entries WHERE seq = 3").fetchone()
    forged = {"seq": 3, "ts": row[1], "actor": "attacker", "action": row[3], "target": row[4],
              "details": json.loads(row[5]), "parent": row[6]}
    _sql(data_dir, f"UPDATE entries SET actor = 'attacker', hash = '{entry_hash(forged)}' WHERE seq = 3")
    assert _named(log) == {(3, "edited")}


def test_deleted_middle_row_named(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 10)
    _sql(data_dir, "DELETE FROM entries WHERE seq IN (5, 6)")
    problems = log.verify().problems
    assert [(p.seq, p.kind) for p in problems] == [(5, "deleted")]
    assert "5~6번" in problems[0].message_ko


def test_deleted_and_renumbered_named(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 10)
    _sql(data_dir, "DELETE FROM entries WHERE seq = 5", "UPDATE entries SET seq = seq - 1 WHERE seq > 5")
    named = _named(log)
    assert (5, "deleted") in named and (5, "reordered") in named
    assert {k for _, k in named} == {"deleted", "reordered"}


def test_swapped_seq_named_as_reordered(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 10)
    _sql(data_dir, "UPDATE entries SET seq = -1 WHERE seq = 4", "UPDATE entries SET seq = 4 WHERE seq = 7",
         "UPDATE entries SET seq = 7 WHERE seq = -1")
    assert _named(log) == {(4, "reordered"), (7, "reordered")}


def test_swapped_content_named_as_reordered(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 8)
    cols = "ts, actor, action, target, details"
    conn = sqlite3.connect(data_dir / "audit.db")
    a = conn.execute(f"SELECT {cols} FROM entries WHERE seq = 2").fetchone()
    b = conn.execute(f"SELECT {cols} FROM entries WHERE seq = 3").fetchone()
    with conn:
        for seq, vals in ((2, b), (3, a)):
            conn.execute("UPDATE entries SET ts=?, actor=?, action=?, target=?, details=? WHERE seq=?", (*vals, seq))
    conn.close()
    assert _named(log) == {(2, "reordered"), (3, "reordered")}


def test_truncated_tail_detected_and_appends_refused(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 10)
    _sql(data_dir, "DELETE FROM entries WHERE seq > 7")
    problems = log.verify().problems
    assert [(p.seq, p.kind) for p in problems] == [(8, "truncated")]
    assert "8~10번" in problems[0].message_ko
    with pytest.raises(AuditError, match="삭제"):  # a new entry would hide the cut
        log.append("login", "kim")
    entry = log.reanchor("admin", "복구 훈련")
    assert entry.details["old_head"]["seq"] == 10
    assert log.verify().ok
    log.append("login", "kim")


def test_missing_head_is_a_problem(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 3)
    (data_dir / "audit.head").unlink()
    assert _named(log) == {(0, "anchor")}
    with pytest.raises(AuditError, match="기준 파일"):
        log.append("login", "kim")


def test_rehashed_last_entry_caught_by_head(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 4)
    row = sqlite3.connect(data_dir / "audit.db").execute("SELECT * FROM entries WHERE seq = 4").fetchone()
    forged = {"seq": 4, "ts": row[1], "actor": row[2], "action": row[3], "target": "secret",
              "details": json.loads(row[5]), "parent": row[6]}
    _sql(data_dir, f"UPDATE entries SET target = 'secret', hash = '{entry_hash(forged)}' WHERE seq = 4")
    assert _named(log) == {(4, "edited")}


def test_keyed_log_rejects_plain_rehash_and_missing_key(data_dir: Path) -> None:
    log = AuditLog(data_dir, key="비밀키")
    _fill(log, 4)
    assert log.verify().ok
    row = sqlite3.connect(data_dir / "audit.db").execute("SELECT * FROM entries WHERE seq = 4").fetchone()
    forged = {"seq": 4, "ts": row[1], "actor": "x", "action": row[3], "target": row[4],
              "details": json.loads(row[5]), "parent": row[6]}
    _sql(data_dir, f"UPDATE entries SET actor = 'x', hash = '{entry_hash(forged)}' WHERE seq = 4")
    assert (4, "edited") in _named(log)
    with pytest.raises(AuditError, match="DASAN_AUDIT_KEY"):
        AuditLog(data_dir, key="").append("login", "kim")
    assert {p.kind for p in AuditLog(data_dir, key="other").verify().problems} == {"key"}


def test_concurrent_threads_keep_one_chain(data_dir: Path) -> None:
    logs = [AuditLog(data_dir), AuditLog(data_dir)]

    def work(i: int) -> None:
        for j in range(50):
            logs[i % 2].append("key.use", f"t{i}", key_id=f"k{j}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = logs[0].verify()
    assert report.ok and report.checked == 200
    assert [e["seq"] for e in logs[1].export()] == list(range(1, 201))


_CHILD = """
import sys
from dasan.security.audit import AuditLog
log = AuditLog(sys.argv[1])
for j in range(int(sys.argv[2])):
    log.append("search", sys.argv[3], query=f"q{j}")
"""


def test_concurrent_processes_keep_one_chain(data_dir: Path) -> None:
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "DASAN_AUDIT_SYNC": "full"}
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(data_dir), "150", f"p{i}"], env=env)
             for i in range(2)]
    log = AuditLog(data_dir)
    for j in range(50):
        log.append("login", "main", n=j)
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    report = log.verify()
    assert report.ok and report.checked == 350
    actors = [e["actor"] for e in log.export()]
    assert actors.count("p0") == actors.count("p1") == 150


def test_export_since_filters(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    times = iter(["2026-01-01T10:00:00.000Z", "2026-01-02T00:30:00.000Z", "2026-01-03T12:00:00.500Z"])
    monkeypatch.setattr(audit_mod, "now_ts", lambda: next(times))
    log = AuditLog(data_dir)
    for action in ("login", "search", "answer"):
        log.append(action, "kim")
    assert [e["action"] for e in log.export("2026-01-02")] == ["search", "answer"]
    assert [e["action"] for e in log.export("2026-01-02T09:00:00+09:00")] == ["search", "answer"]
    assert [e["action"] for e in log.export("2026-01-02T09:30:01+09:00")] == ["answer"]
    assert len(list(log.export(None))) == 3
    exported = list(log.export())
    assert all(entry_hash(e) == e["hash"] for e in exported)
    with pytest.raises(AuditError, match="날짜 형식"):
        list(log.export("어제"))


def test_cli_verify_and_export(data_dir: Path) -> None:
    runner = CliRunner()
    env = {"DASAN_HOME": str(data_dir), "DASAN_ACTOR": "감사관"}
    log = AuditLog(data_dir)
    _fill(log, 5)
    ok = runner.invoke(audit_group, ["verify", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    body = json.loads(ok.output)
    assert body["ok"] is True and body["checked"] == 5 and body["problems"] == [] and body["head"]["seq"] == 5

    out = runner.invoke(audit_group, ["export", "--since", "2000-01-01", "--format", "jsonl"], env=env)
    assert out.exit_code == 0, out.output
    lines = [json.loads(x) for x in out.output.splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[-1]["action"] == "audit.export" and lines[-1]["actor"] == "감사관"
    assert runner.invoke(audit_group, ["export", "--since", "31/01/2026"], env=env).exit_code == 2

    _sql(data_dir, "DELETE FROM entries WHERE seq = 2", "UPDATE entries SET target = 'x' WHERE seq = 4")
    bad = runner.invoke(audit_group, ["verify", "--json"], env=env)
    assert bad.exit_code == 1
    problems = json.loads(bad.output)["problems"]
    assert [(p["seq"], p["kind"], p["kind_ko"]) for p in problems] == [(2, "deleted", "삭제됨"),
                                                                        (4, "edited", "수정됨")]
    text = runner.invoke(audit_group, ["verify"], env=env)
    assert text.exit_code == 1 and "[2번] 삭제됨" in text.output and "[4번] 수정됨" in text.output


def test_append_failures_raise_audit_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(AuditError, match="감사 로그를 열 수 없습니다"):
        AuditLog(not_a_dir).append("login", "kim")

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "audit.db").write_bytes(b"this is not a database" * 200)
    with pytest.raises(AuditError, match="손상"):
        AuditLog(corrupt).append("login", "kim")
    assert {p.kind for p in AuditLog(corrupt).verify().problems} == {"corrupt"}

    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "audit.head").mkdir()
    with pytest.raises(AuditError, match="기준 파일"):
        AuditLog(blocked).append("login", "kim")

    with pytest.raises(AuditError, match="동작 이름"):
        AuditLog(tmp_path / "ok").append("Bad Action!", "kim")
    with pytest.raises(AuditError, match="행위자"):
        AuditLog(tmp_path / "ok").append("login", " ")


def test_audited_logs_intent_then_outcome(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    with audited(log, "answer", "kim", "default", question="q") as rec:
        rec["chunk_ids"] = ["a", "b"]
        rec["backend"] = "extractive"
    with pytest.raises(ValueError), audited(log, "search", "kim", query="q"):
        raise ValueError("boom")
    entries = list(log.export())
    assert [(e["action"], e["details"]["phase"]) for e in entries] == [
        ("answer", "start"), ("answer", "end"), ("search", "start"), ("search", "end")]
    assert entries[1]["details"] == {"phase": "end", "start_seq": 1, "outcome": "ok",
                                  "chunk_ids": ["a", "b"], "backend": "extractive"}
    assert entries[3]["details"]["outcome"] == "error" and "boom" in entries[3]["details"]["error"]

    ran = []
    bad = AuditLog(data_dir, key="late key")  # key mismatch: the log cannot be written
    with pytest.raises(AuditError), audited(bad, "search", "kim"):
        ran.append(1)
    assert ran == []


def test_odd_strings_are_stored_verifiably(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    e = log.append("search", "kim", query="bad \udcff byte", long="가" * 10_000, nan=float("nan"))
    assert "\ufffd" in e.details["query"] or "?" in e.details["query"]
    assert len(e.details["long"]) < 8300 and e.details["nan"] == "nan"
    assert log.verify().ok


def test_copied_row_named_as_inserted(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 6)
    _sql(data_dir, "INSERT INTO entries SELECT 7, ts, actor, action, target, details, parent, hash "
                   "FROM entries WHERE seq = 3")
    assert _named(log) == {(7, "inserted")}
    with pytest.raises(AuditError, match="7번"):
        log.append("login", "kim")


def test_dropped_tables_and_meta(data_dir: Path) -> None:
    log = AuditLog(data_dir)
    _fill(log, 3)
    _sql(data_dir, "DELETE FROM meta")
    assert {p.kind for p in AuditLog(data_dir).verify().problems} == {"corrupt"}
    _sql(data_dir, "DROP TABLE entries")
    assert _named(AuditLog(data_dir)) == {(1, "truncated")}


def test_two_logs_starting_a_new_file_at_once(tmp_path: Path) -> None:
    """Creating the file (WAL switch, schema) and writing the first entry and its head anchor
    race between writers; none may fail or break the chain (was ~1 in 6 runs before)."""
    for n in range(15):
        d = tmp_path / f"d{n}"
        logs = [AuditLog(d), AuditLog(d)]
        errors: list[BaseException] = []

        def work(i: int, logs: list[AuditLog] = logs, errors: list[BaseException] = errors) -> None:
            try:
                for j in range(5):
                    logs[i % 2].append("key.use", f"t{i}", key_id=f"k{j}")
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        report = logs[0].verify()
        assert report.ok and report.checked == 20
