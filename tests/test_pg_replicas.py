"""Two `dasan serve` replicas on one PostgreSQL database: an upload through one is searchable
through the other, access still holds, and /readyz reports the database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dasan.rag.retrieve import RetrievalConfig
from dasan.server.app import create_app

SECRET = "푸른솔 작전 계획: 3분기 예산 재배정과 비상 연락망 점검 일정."


def test_an_upload_through_one_replica_is_searchable_through_the_other(pg_url: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    a = create_app(tmp_path / "a", retrieval=RetrievalConfig(embedder=None))
    b = create_app(tmp_path / "b", retrieval=RetrievalConfig(embedder=None))
    d = a.state.dasan.directory()
    d.add_user("admin", clearance="기밀", role="admin")
    d.add_user("kim", clearance="공개", role="user")
    admin = {"Authorization": f"Bearer {d.create_key('admin', ['search', 'docs', 'admin']).key}"}
    public = {"Authorization": f"Bearer {d.create_key('kim', ['search']).key}"}  # created via replica a
    with TestClient(a) as ca, TestClient(b) as cb:
        a.state.dasan.wait_ready(120)
        b.state.dasan.wait_ready(120)
        ready = cb.get("/readyz").json()
        assert ready["status"] == "ready" and ready["database"]["backend"] == "postgresql"
        assert ready["database"]["schema_version"] >= 2
        r = ca.post("/v1/documents", headers=admin, data={"collection": "내부", "level": "민감"},
                    files={"files": ("계획.txt", SECRET.encode(), "text/plain")})
        assert r.status_code == 202, r.text
        job = r.json()["job"]
        deadline = time.time() + 60
        while time.time() < deadline and not ca.get(f"/v1/jobs/{job}", headers=admin).json()["done"]:
            time.sleep(0.1)
        done_at = time.time()
        # the other replica: searchable at its next search (well within 2 s)
        hits: list = []
        while time.time() - done_at < 2.0 and not hits:
            hits = cb.post("/v1/search", json={"query": "푸른솔 예산 재배정"}, headers=admin).json()["results"]
        assert hits and "푸른솔" in hits[0]["text"]
        # a 공개 user sees nothing of it, on either replica
        for c in (ca, cb):
            r = c.post("/v1/search", json={"query": "푸른솔 예산 재배정"}, headers=public)
            assert r.status_code == 200 and "푸른솔" not in r.text
