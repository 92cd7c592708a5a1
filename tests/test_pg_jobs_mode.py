"""Servers enqueue, workers run (DASAN_JOBS=worker), and replicas restarting together take up a
dead node's job exactly once, its upload's audit outcome written once."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from dasan.rag.retrieve import RetrievalConfig
from dasan.server.app import create_app
from dasan.server.auth import AuditTrail
from dasan.server.jobs import Originals
from dasan.server.worker import Worker
from dasan.store import open_store
from dasan.store.base import JobRecord
from dasan.store.postgres.audit import open_audit

TEXT = "하늘다리 보수 공사 계획: 4분기 교량 점검과 통행 제한 안내."


def conn_files(pg_url: str, job_id: str) -> str:
    with psycopg.connect(pg_url) as conn:
        return conn.execute("SELECT files FROM jobs WHERE id = %s", (job_id,)).fetchone()[0]


def _ends(log, start_seq: int) -> list[dict]:
    return [e for e in log.export() if e["details"].get("phase") == "end"
            and e["details"].get("start_seq") == start_seq]


def _starts(log, action: str) -> list[dict]:
    return [e for e in log.export() if e["action"] == action and e["details"].get("phase") == "start"]


def test_serve_enqueues_and_a_worker_runs_the_job(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    monkeypatch.setenv("DASAN_JOBS", "worker")
    data = tmp_path / "shared"
    app = create_app(data, retrieval=RetrievalConfig(embedder=None))
    d = app.state.dasan.directory()
    d.add_user("admin", clearance="기밀", role="admin")
    admin = {"Authorization": f"Bearer {d.create_key('admin', ['search', 'docs', 'admin']).key}"}
    with TestClient(app) as c:
        app.state.dasan.wait_ready(120)
        r = c.post("/v1/documents", headers=admin, data={"collection": "시설", "level": "공개"},
                   files={"files": ("계획.txt", TEXT.encode(), "text/plain")})
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        time.sleep(1.0)
        # the server ran nothing: the job waits in the queue, held by nobody
        assert c.get(f"/v1/jobs/{job}", headers=admin).json()["done"] is False
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT lease_owner, done FROM jobs WHERE id = %s", (job,)).fetchone() == (None, False)
        assert app.state.dasan.store.list_documents() == []
        # a worker (its own store, same database and data directory) runs it
        wstore = open_store(data, url=pg_url)
        try:
            w = Worker(wstore, data, name="w1", lease_s=30)
            assert w.run(once=True) == 1 and w.completed == [job]
        finally:
            wstore.close()
        got = c.get(f"/v1/jobs/{job}", headers=admin).json()
        assert got["done"] and got["files"][0]["status"] == "ingested"
        hits: list = []
        deadline = time.time() + 10
        while time.time() < deadline and not hits:
            hits = c.post("/v1/search", json={"query": "하늘다리 교량 점검"}, headers=admin).json()["results"]
        assert hits and "하늘다리" in hits[0]["text"]
        # a collection that promises masked text only keeps no original, also when a worker ingests
        store = app.state.dasan.store
        store.ensure_collection("가림")
        store.set_collection_pii_policy("가림", "mask_ingest")
        r = c.post("/v1/documents", headers=admin, data={"collection": "가림", "level": "공개"},
                   files={"files": ("명단.txt", "가림 수집 시험 문서입니다.".encode(), "text/plain")})
        masked = r.json()["job"]
        wstore = open_store(data, url=pg_url)
        try:
            assert Worker(wstore, data, name="w2", lease_s=30).run(once=True) == 1
        finally:
            wstore.close()
        [f] = json.loads(conn_files(pg_url, masked))
        assert f["status"] == "ingested" and Originals(data).path(f["sha256"]) is None
        first = json.loads(conn_files(pg_url, job))[0]
        assert Originals(data).path(first["sha256"]) is not None  # a document of it may show it: kept
    log = open_audit(data)
    [start] = [e for e in _starts(log, "document.upload") if e["details"].get("job") == job]
    [end] = _ends(log, start["seq"])  # the upload's outcome, written once, by the worker
    assert end["details"]["outcome"] == "ok" and end["details"]["worker"] == "w1"
    assert end["details"]["documents"][0]["status"] == "ingested"
    log.close()


def test_jobs_worker_mode_needs_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dasan.errors import ConfigError
    from dasan.server.jobs import jobs_mode

    store = open_store(tmp_path, url="")
    try:
        monkeypatch.setenv("DASAN_JOBS", "worker")
        with pytest.raises(ConfigError, match="DASAN_DATABASE_URL"):
            jobs_mode(store)
        monkeypatch.setenv("DASAN_JOBS", "inprocess")
        assert jobs_mode(store) == "inprocess"
    finally:
        store.close()


def _dead_node_job(pg_url: str, data: Path, job_id: str, text: str) -> int:
    """A job a server accepted (trail start written, lease held) before it died; its lease ran out."""
    dead = open_store(data / "dead", url=pg_url)
    log = open_audit(data / "dead")
    try:
        trail = AuditTrail(log, "kim", "document.upload", "시설", job=job_id, level="공개")
        f = Originals(data).save(io.BytesIO(text.encode()), f"{job_id}.txt")
        dead.save_job(JobRecord(job_id, "kim", "시설", "공개", [asdict(f)], created=time.time(),
                                attempts=1, trail=trail.as_dict()))
        with dead.db.tx() as c:
            c.execute("UPDATE jobs SET lease_until = 0 WHERE id = %s", (job_id,))
        return trail.start_seq
    finally:
        log.close()
        dead.close()


def test_replicas_recovering_together_claim_each_job_once(pg_url: str, tmp_path: Path) -> None:
    for i in range(6):
        _dead_node_job(pg_url, tmp_path, f"r{i}", f"문서 {i}: 복구 경쟁 시험 {i}번째.")
    stores = [open_store(tmp_path / f"node{i}", url=pg_url) for i in range(4)]
    got: list[list[str]] = [[] for _ in stores]
    barrier = threading.Barrier(len(stores))

    def work(i: int) -> None:
        barrier.wait()
        got[i] = [j.id for j in stores[i].recover_jobs(900)]

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        taken = [j for g in got for j in g]
        assert sorted(taken) == [f"r{i}" for i in range(6)]  # every job, none twice
        assert {stores[0].get_job(j).attempts for j in taken} == {2}
        # a node restarting takes up its own jobs again (its lease still runs); others do not
        owner = next(i for i, g in enumerate(got) if g)
        assert sorted(j.id for j in stores[owner].recover_jobs(900)) == sorted(got[owner])
        other = (owner + 1) % len(stores)
        assert [j.id for j in stores[other].recover_jobs(900)] == sorted(got[other])
    finally:
        for s in stores:
            s.close()


def test_two_app_replicas_restarting_finish_a_dead_nodes_job_once(pg_url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    start_seq = _dead_node_job(pg_url, tmp_path, "lost", TEXT)
    # the replicas share the originals (one data directory, as servers and workers must)
    import shutil

    for name in ("a", "b"):
        shutil.copytree(tmp_path / "originals", tmp_path / name / "originals")
    a = create_app(tmp_path / "a", retrieval=RetrievalConfig(embedder=None))
    b = create_app(tmp_path / "b", retrieval=RetrievalConfig(embedder=None))
    with TestClient(a), TestClient(b):
        a.state.dasan.wait_ready(120)
        b.state.dasan.wait_ready(120)
        store = a.state.dasan.store
        deadline = time.time() + 60
        while time.time() < deadline and not store.get_job("lost").done:
            time.sleep(0.1)
        time.sleep(0.5)
        job = store.get_job("lost")
        assert job.done and job.files[0]["status"] == "ingested" and job.attempts == 2
        assert len(store.list_documents()) == 1
    log = open_audit(tmp_path / "a")
    [end] = _ends(log, start_seq)
    assert end["details"]["outcome"] == "ok" and end["details"]["documents"][0]["status"] == "ingested"
    log.close()
