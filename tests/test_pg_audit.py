"""The audit log in PostgreSQL: one hash chain for every process, appends serialised."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dasan.cli import cli
from dasan.store.postgres.audit import PgAuditLog, open_audit

REPO = Path(__file__).resolve().parents[1]


def test_concurrent_writers_keep_one_chain(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    log = open_audit(tmp_path / "a")
    assert isinstance(log, PgAuditLog)
    log.append("login", "kim", "dsn_1")
    # another process with its own data directory (another host: it anchors what it appends in
    # its own audit.head and joins the chain) appends at the same time as threads here
    env = dict(os.environ, DASAN_DATABASE_URL=pg_url, PYTHONPATH=str(REPO))
    code = ("import sys; from dasan.store.postgres.audit import open_audit\n"
            "log = open_audit(sys.argv[1])\n"
            "for i in range(40): log.append('search', 'lee', str(i), q='철도')\n"
            "log.close()")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "b")], env=env, cwd=str(REPO))
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            mine = open_audit(tmp_path / "a")
            for i in range(20):
                mine.append("search", f"user{n}", str(i), q="대피")
            mine.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert proc.wait(120) == 0 and not errors, errors
    report = log.verify()
    assert report.ok and report.checked == 1 + 40 + 60, report.problems
    with psycopg.connect(pg_url) as c:
        seqs = [r[0] for r in c.execute("SELECT seq FROM audit_entries ORDER BY seq")]
    assert seqs == list(range(1, 102))
    # the CLI verifies the same chain
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "b"), "audit", "verify"])
    assert res.exit_code == 0, res.output
    # an edited entry is found
    with psycopg.connect(pg_url) as c:
        c.execute("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 50")
    report = log.verify()
    assert not report.ok and any(p.seq == 50 for p in report.problems)
    log.close()
