"""An upload's audit outcome is written once (issue 19): a job completed again after a crash
between its end entry and its saved state — by a restarted server, or by another ``dasan
worker`` — finds the entry and writes no second one; and a crash after the job was saved done
no longer loses the entry (it is written before the save). SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dasan.rag.retrieve import RetrievalConfig
from dasan.server.app import create_app
from dasan.server.auth import AuditTrail
from dasan.server.jobs import Originals
from dasan.store import open_store
from dasan.store.base import JobRecord
from dasan.store.postgres.audit import PgAuditLog, open_audit

NOTICE = "야간 선로작업 안전수칙: 작업 전 열차운행 차단 승인을 받고, 열차감시원을 양끝에 배치한다."


class Killed(BaseException):
    """A kill -9 at that point of the job (nothing after it runs)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    monkeypatch.delenv("DASAN_JOBS", raising=False)
    if request.param == "postgresql":
        u = request.getfixturevalue("pg_url")
        monkeypatch.setenv("DASAN_DATABASE_URL", u)
        return u
    monkeypatch.delenv("DASAN_DATABASE_URL", raising=False)
    return ""


def _ends(log, start_seq: int) -> list[dict]:
    return [e for e in log.export() if e["details"].get("phase") == "end"
            and e["details"].get("start_seq") == start_seq]


def test_a_trail_finished_again_writes_one_end_entry(url: str, tmp_path: Path) -> None:
    log = open_audit(tmp_path)
    assert isinstance(log, PgAuditLog) == bool(url)
    try:
        # (a trail's details may hold a "key": the API key it was made with)
        trail = AuditTrail(log, "kim", "document.upload", "현장", job="j1", key="dsn_1234", via="api")
        other = AuditTrail(log, "lee", "document.upload", "현장", job="j2")
        trail.finish(once=True, documents=[{"id": "d1", "status": "ingested"}], failed=0)
        log.append("search", "lee", "", query_chars=3)
        # the process completing it again (a restart, another worker): its own log object
        again = open_audit(tmp_path)
        try:
            AuditTrail.resume(again, trail.as_dict()).finish(once=True, documents=[], failed=1)
            AuditTrail.resume(again, trail.as_dict()).finish(once=True, documents=[], failed=1)
        finally:
            again.close()
        [end] = _ends(log, trail.start_seq)
        assert end["details"]["failed"] == 0 and end["details"]["outcome"] == "ok"
        # another trail of the same action and target is not mistaken for it
        other.finish(once=True, documents=[], failed=0)
        assert len(_ends(log, other.start_seq)) == 1
        # keyed entries without a trail: once per key
        first = log.append_once("job.done", "worker-a", "j9", {"failed": 0}, key={"job": "j9"})
        second = log.append_once("job.done", "worker-b", "j9", {"failed": 1}, key={"job": "j9"})
        assert second.seq == first.seq and second.actor == "worker-a"
        assert log.verify().ok
    finally:
        log.close()


@pytest.mark.parametrize("end_written", [True, False], ids=["crash-after-end-entry", "crash-before-end-entry"])
def test_a_restart_completes_the_job_with_one_end_entry(url: str, tmp_path: Path, end_written: bool) -> None:
    """The server died after its job's files were ingested: just after writing the end entry
    (before saving the job done), or just before it. The next start completes the job and the
    log holds exactly one end entry."""
    data = tmp_path / "data"
    store = open_store(data, url=url)
    log = open_audit(data)
    try:
        trail = AuditTrail(log, "admin", "document.upload", "현장", job="k1", level="공개")
        f = Originals(data).save(io.BytesIO(NOTICE.encode()), "k1.txt")
        f.status, f.document_id, f.chunks = "ingested", "doc-k1", 1
        if end_written:
            trail.finish(once=True, documents=[{"id": "doc-k1", "status": "ingested"}], failed=0)
        store.save_job(JobRecord("k1", "admin", "현장", "공개", [asdict(f)], created=time.time(), attempts=1,
                                 trail=trail.as_dict()))
        start_seq = trail.start_seq
    finally:
        log.close()
        store.close()
    for _ in range(2):  # and a second restart changes nothing
        app = create_app(data, retrieval=RetrievalConfig(embedder=None))
        with TestClient(app):
            app.state.dasan.wait_ready(120)
            deadline = time.time() + 60
            while time.time() < deadline and not app.state.dasan.store.get_job("k1").done:
                time.sleep(0.1)
            assert app.state.dasan.store.get_job("k1").done
        log = open_audit(data)
        try:
            [end] = _ends(log, start_seq)
            assert end["details"]["documents"] == [{"id": "doc-k1", "status": "ingested"}]
            assert log.verify().ok
        finally:
            log.close()


class _CrashingStore:
    """The worker's store, killed just before (``when="before"``) or just after (``"after"``)
    the job is saved done."""

    def __init__(self, store, when: str) -> None:
        self._store, self._when = store, when

    def save_job_leased(self, job, worker):
        if job.done and self._when == "before":
            raise Killed
        ok = self._store.save_job_leased(job, worker)
        if job.done and self._when == "after":
            raise Killed
        return ok

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("with_trail", [True, False], ids=["upload-trail", "no-trail"])
def test_a_worker_killed_around_the_done_save_leaves_one_end_entry(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str, with_trail: bool) -> None:
    from dasan.server.worker import Worker

    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    store = open_store(tmp_path, url=pg_url)
    log = open_audit(tmp_path)
    try:
        trail = AuditTrail(log, "kim", "document.upload", "업로드", job="w1", level="공개") if with_trail else None
        f = Originals(tmp_path).save(io.BytesIO(NOTICE.encode()), "w1.txt")
        store.save_job(JobRecord("w1", "kim", "업로드", "공개", [asdict(f)], created=time.time(),
                                 trail=trail.as_dict() if trail else None), leased=False)
        a = Worker(_CrashingStore(store, when), tmp_path, name="worker-a", lease_s=30)
        rec = store.claim_job("worker-a", 30)
        assert rec is not None
        with pytest.raises(Killed):
            a.run_job(rec)
        if when == "before":  # the job is still open: its lease runs out, another worker completes it
            assert not store.get_job("w1").done
            with store.db.tx() as c:
                c.execute("UPDATE jobs SET lease_until = 0 WHERE id = 'w1'")
            b = Worker(store, tmp_path, name="worker-b", lease_s=30)
            assert b.run(once=True) == 1 and b.completed == ["w1"]
        job = store.get_job("w1")
        assert job.done and job.files[0]["status"] == "ingested"
        assert len(store.list_documents()) == 1
        if trail is not None:
            [end] = _ends(log, trail.start_seq)
            assert end["details"]["worker"] == "worker-a"  # the first holder's entry, not a second one
        else:
            [end] = [e for e in log.export() if e["action"] == "job.done" and e["target"] == "w1"]
            assert end["actor"] == "worker-a"
        assert log.verify().ok
    finally:
        log.close()
        store.close()
