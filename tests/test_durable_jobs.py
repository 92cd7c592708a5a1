"""Upload jobs survive a server restart: a job the server was running when it stopped (kill -9)
is taken up again at the next start and its file ingested once; a job interrupted too often, or
whose original is gone, ends failed with a Korean reason — never left half-done."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dasan.rag.retrieve import RetrievalConfig
from dasan.server.app import create_app
from dasan.server.jobs import MAX_ATTEMPTS, Job, Originals
from dasan.store import open_store
from dasan.types import Principal

NOTICE = ("야간 선로작업 안전수칙 개정 알림\n\n"
          "1. 작업 시작 전 열차운행 차단 승인을 반드시 받는다.\n2. 열차감시원은 작업구간 양끝에 배치한다.\n")


def _interrupted(data: Path, job_id: str, text: str, *, attempts: int = 1, drop_original: bool = False) -> None:
    """What a kill -9 during ingestion leaves: the job in the store, its file marked running."""
    originals = Originals(data)
    f = originals.save(io.BytesIO(text.encode()), f"{job_id}.txt")
    if drop_original:
        (data / "originals" / str(f.sha256)).unlink()
    job = Job(job_id, "admin", "현장", "공개", [f], attempts=attempts)
    store = open_store(data)
    store.save_job(job.record(running=0))
    store.close()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    return tmp_path / "data"


def _wait(state, job_id: str, timeout: float = 60.0) -> Job:
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = state.jobs.get(job_id, Principal.operator())
        if job.done:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not done")


def test_a_job_interrupted_by_a_restart_is_finished_at_the_next_start(data: Path) -> None:
    _interrupted(data, "a1", NOTICE)
    _interrupted(data, "a2", NOTICE.replace("야간", "주간"), attempts=MAX_ATTEMPTS)
    _interrupted(data, "a3", NOTICE.replace("야간", "심야"), drop_original=True)
    app = create_app(data, retrieval=RetrievalConfig(embedder=None))
    state = app.state.dasan
    with TestClient(app):
        state.wait_ready(120)
        done = _wait(state, "a1")
        assert done.files[0].status == "ingested" and done.files[0].document_id
        assert [d.id for d in state.store.list_documents("현장")] == [done.files[0].document_id]
        exhausted = _wait(state, "a2")
        assert exhausted.files[0].status == "failed" and exhausted.files[0].code == "retry_exhausted"
        assert "다시 올리세요" in (exhausted.files[0].error or "")
        missing = _wait(state, "a3")
        assert missing.files[0].code == "original_missing"
        assert not state.store.open_jobs()
        hits = state.retriever.search("열차감시원 배치", k=3)
        assert hits and "열차감시원" in hits[0].chunk.text
    # a second restart finds nothing to do, and the finished job is still visible to its owner
    app2 = create_app(data, retrieval=RetrievalConfig(embedder=None))
    with TestClient(app2):
        app2.state.dasan.wait_ready(120)
        job = app2.state.dasan.jobs.get("a1", Principal.operator())
        assert job.done and job.files[0].status == "ingested"
        assert len(app2.state.dasan.store.list_documents("현장")) == 1


def test_jobs_are_stored_as_they_run(data: Path) -> None:
    app = create_app(data, retrieval=RetrievalConfig(embedder=None))
    state = app.state.dasan
    with TestClient(app):
        state.wait_ready(120)
        f = state.jobs.originals.save(io.BytesIO(NOTICE.encode()), "notice.txt")
        job = Job(state.jobs.new_id(), "admin", "현장", "공개", [f])
        state.jobs.submit(job)
        _wait(state, job.id)
        rec = state.store.get_job(job.id)
        assert rec is not None and rec.done and rec.files[0]["status"] == "ingested"
        gen = state.store.generation()
        state.store.save_job(rec)  # saving a job is not a content change: no index refresh
        assert state.store.generation() == gen
