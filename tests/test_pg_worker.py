"""The durable upload queue in PostgreSQL: leases, SKIP LOCKED, a killed worker loses no job."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psycopg
import pytest

from dasan.server.jobs import Originals
from dasan.server.worker import Worker
from dasan.store import open_store
from dasan.store.base import JobRecord

REPO = Path(__file__).resolve().parents[1]


def _enqueue(store, data_dir: Path, job_id: str, text: str) -> None:
    """A job as a server that died right after accepting the upload left it (lease run out)."""
    f = Originals(data_dir).save(io.BytesIO(text.encode()), f"{job_id}.txt")
    store.save_job(JobRecord(job_id, "kim", "업로드", "민감", [asdict(f)], created=time.time()))
    with store.db.tx() as c:
        c.execute("UPDATE jobs SET lease_until = 0 WHERE id = %s", (job_id,))


def test_a_job_whose_worker_died_is_finished_by_another_exactly_once(pg_url: str, tmp_path: Path) -> None:
    store = open_store(tmp_path, url=pg_url)
    try:
        _enqueue(store, tmp_path, "j1", "철도 선로 작업 안전 수칙: 작업 전 열차 운행을 확인한다.")
        dead = store.claim_job("worker-a", lease_s=1.0)  # claimed, then killed: never renews
        assert dead is not None and dead.id == "j1"
        assert store.claim_job("worker-b", lease_s=30) is None  # held: SKIP LOCKED / lease
        time.sleep(1.2)
        b = Worker(store, tmp_path, name="worker-b", lease_s=30)
        assert b.run(once=True) == 1 and b.completed == ["j1"]
        job = store.get_job("j1")
        assert job.done and job.files[0]["status"] == "ingested" and job.attempts == 2
        assert [d.collection for d in store.list_documents()] == ["업로드"]
        assert store.list_documents()[0].classification == "민감"
        # the first worker comes back: it may not write (nor complete the job a second time)
        dead.done = True
        assert store.save_job_leased(dead, "worker-a") is False
        assert store.claim_job("worker-a", 1.0) is None
    finally:
        store.close()


def test_many_workers_share_the_queue_and_each_job_runs_once(pg_url: str, tmp_path: Path) -> None:
    store = open_store(tmp_path, url=pg_url)
    try:
        for i in range(12):
            _enqueue(store, tmp_path, f"job{i:02d}", f"문서 {i}: 예산 집행 계획 {i}번째 항목.")
        workers = [Worker(store, tmp_path, name=f"w{i}", lease_s=30) for i in range(3)]
        threads = [threading.Thread(target=w.run, kwargs={"once": True}) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        done = [j for w in workers for j in w.completed]
        assert sorted(done) == [f"job{i:02d}" for i in range(12)]  # every job, none twice
        assert store.open_jobs() == [] and len(store.list_documents()) == 12
    finally:
        store.close()


def test_kill_9_of_the_worker_process_loses_no_job(pg_url: str, tmp_path: Path) -> None:
    """A real `dasan worker` process killed with SIGKILL while it ingests a job: a restarted
    worker finishes the job once the dead one's lease has run out."""
    store = open_store(tmp_path, url=pg_url)
    try:
        _enqueue(store, tmp_path, "k1", "재난 대피 명령 시 주민은 지정된 대피소로 이동한다.")
        # hold the store's generation row: the victim's commit of the document blocks there,
        # so it is killed while it holds the job (mid-ingest), deterministically
        blocker = psycopg.connect(pg_url)
        blocker.execute("SELECT * FROM store_state FOR UPDATE")
        env = dict(os.environ, DASAN_DATABASE_URL=pg_url, DASAN_HOME=str(tmp_path),
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        # the worker is stopped (SIGSTOP) as soon as it holds the lease, then killed
        proc = subprocess.Popen([sys.executable, "-c", "from dasan.cli import main; main()", "worker", "--lease", "2",
                                 "--poll", "0.1", "--name", "victim"], env=env, cwd=str(REPO),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            with psycopg.connect(pg_url) as c:
                row = c.execute("SELECT lease_owner FROM jobs WHERE id = 'k1'").fetchone()
            if row[0] == "victim":
                break
            time.sleep(0.05)
        assert row[0] == "victim"
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        blocker.rollback()
        blocker.close()
        assert not store.get_job("k1").done
        w = Worker(store, tmp_path, name="restarted", lease_s=30, poll_s=0.2)
        t = threading.Thread(target=w.run)
        t.start()
        deadline = time.time() + 30
        while time.time() < deadline and not store.get_job("k1").done:
            time.sleep(0.2)
        w.stop()
        t.join(30)
        assert store.get_job("k1").done and w.completed == ["k1"]
        assert len(store.list_documents()) == 1
    finally:
        store.close()


def test_worker_refuses_sqlite(tmp_path: Path) -> None:
    from dasan.errors import StoreError

    store = open_store(tmp_path, url="")
    with pytest.raises(StoreError, match="DASAN_DATABASE_URL"):
        Worker(store, tmp_path)
    store.close()
