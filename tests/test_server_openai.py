"""A real ``uvicorn`` server used through the official ``openai`` client, with the default
retrieval (Kiwi BM25 + multilingual-e5 embeddings): models, chat (plain and streamed, with
citations), embeddings, auth errors; queries while the worker ingests; the load generator."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import openai
import pytest
import uvicorn
from click.testing import CliRunner

from dasan import config
from dasan.bench.load import load, run_load
from dasan.security.access import check_key_scopes
from dasan.security.principals import SCOPES
from dasan.server.app import create_app

QUESTION = "선로 작업 중 열차가 접근하면 어떻게 대피해야 하나요?"


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    state: Any

    def client(self, who: str = "kim") -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=self.keys.get(who, who), max_retries=0, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASAN_AUDIT_SYNC", "normal")
        app = create_app(tmp_path_factory.mktemp("openai") / "data", ingest_samples=True)  # default: BM25 + e5
        state = app.state.dasan
        d = state.directory()
        keys = {}
        for name, clearance, role in (("admin", "기밀", "admin"), ("kim", "공개", "user")):
            d.add_user(name, clearance=clearance, role=role)
            keys[name] = d.create_key(name, check_key_scopes(role, SCOPES if role == "admin" else ())).key
        keys["search_only"] = d.create_key("kim", ["search"]).key
        keys["admin2"] = d.create_key("admin", check_key_scopes("admin", SCOPES)).key
        port = free_port()
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.time() + 30
        while not srv.started and time.time() < deadline:
            time.sleep(0.05)
        assert srv.started, "uvicorn did not start"
        state.wait_ready(300)
        try:
            yield Server(f"http://127.0.0.1:{port}", keys, state)
        finally:
            srv.should_exit = True
            thread.join(15)


def test_models_list(server: Server) -> None:
    ids = [m.id for m in server.client().models.list()]
    assert ids == ["dasan"]


def test_chat_completion_with_citations(server: Server) -> None:
    resp = server.client().chat.completions.create(model="dasan", messages=[
        {"role": "system", "content": "한국어로 답하세요."}, {"role": "user", "content": QUESTION}])
    text = resp.choices[0].message.content or ""
    assert resp.choices[0].finish_reason == "stop" and "[1]" in text and "대피" in text
    extra = resp.model_extra or {}
    cites = extra["citations"]
    assert cites[0]["marker"] == 1 and cites[0]["chunk_id"] and "대피" in cites[0]["quote"]
    # the quote's first line is in the answer (said first, without its step number "1. ")
    first = re.sub(r"^\d{1,2}[.)]\s*", "", cites[0]["quote"].splitlines()[0])
    assert cites[0]["quote"] and first in text
    assert extra["dasan"]["backend"] == "extractive" and extra["dasan"]["refused"] is False
    assert resp.usage is not None and resp.usage.total_tokens > 0
    # the hybrid path really ran: the dense index covers every chunk
    assert server.state.retriever.dense is not None and server.state.retriever.dense.size == \
        sum(d.n_chunks for d in server.state.store.list_documents())


def test_chat_streaming_final_chunk_carries_citations(server: Server) -> None:
    stream = server.client().chat.completions.create(model="dasan", stream=True,
                                                     messages=[{"role": "user", "content": QUESTION}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and not last.choices[0].delta.content
    extra = last.model_extra or {}
    assert extra["citations"] and extra["citations"][0]["marker"] == 1
    assert extra["dasan"]["answer"] == text and "[1]" in text
    assert all(c.id == chunks[0].id for c in chunks)


def test_embeddings(server: Server) -> None:
    texts = ["선로 작업 전 작업 차단 승인을 받는다.", "열차가 접근하면 대피 공간으로 이동한다."]
    for fmt in ("float", "base64"):
        resp = server.client().embeddings.create(model="e5", input=texts, encoding_format=fmt)  # type: ignore[arg-type]
        raw = [d.embedding for d in resp.data]  # an explicit base64 request gets the strings back as they are
        vecs = np.array([np.frombuffer(base64.b64decode(v), dtype="<f4") if isinstance(v, str) else v for v in raw],
                        dtype=np.float32)
        assert vecs.shape == (2, 384)
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
        ref = server.state.retriever.dense.embedder.embed_passages(texts)
        assert np.allclose(vecs, ref, atol=1e-5)
    single = server.client().embeddings.create(model="e5", input="대피")  # the client asks for base64 and decodes
    assert len(single.data) == 1 and single.model == "e5" and len(single.data[0].embedding) == 384
    with pytest.raises(openai.NotFoundError):
        server.client().embeddings.create(model="text-embedding-3-small", input="대피")


def test_wrong_key_and_scopes(server: Server) -> None:
    with pytest.raises(openai.AuthenticationError) as e:
        server.client("dsn_00000000_" + "A" * 43).models.list()
    assert e.value.code == "invalid_key" and "API 키" in e.value.message
    with pytest.raises(openai.AuthenticationError):
        server.client("sk-not-a-dasan-key").chat.completions.create(model="dasan",
                                                                   messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.PermissionDeniedError) as p:
        server.client("search_only").chat.completions.create(model="dasan",
                                                             messages=[{"role": "user", "content": QUESTION}])
    assert p.value.code == "permission_denied"
    with pytest.raises(openai.NotFoundError):
        server.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


def test_queries_keep_working_while_the_worker_ingests(server: Server) -> None:
    admin = {"Authorization": f"Bearer {server.keys['admin']}"}
    kim = {"Authorization": f"Bearer {server.keys['kim']}"}
    press = config.examples_dir() / "press"
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in sorted(press.iterdir())]
    statuses: list[int] = []
    with httpx.Client(base_url=server.url, timeout=60) as c:
        r = c.post("/v1/documents", headers=admin, data={"collection": "보도"}, files=files)
        assert r.status_code == 202

        def query() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as cc:
                for _ in range(3):
                    statuses.append(cc.post("/v1/search", headers=kim, json={"query": "인파 밀집 안전대책"}).status_code)

        threads = [threading.Thread(target=query) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        deadline = time.time() + 180
        while not (job := c.get(f"/v1/jobs/{r.json()['job']}", headers=admin).json())["done"]:
            assert time.time() < deadline
            time.sleep(0.2)
        assert statuses == [200] * 12
        assert [f["status"] for f in job["files"]] == ["ingested"] * len(files), job
        hits = c.post("/v1/search", headers=kim, json={"query": "연말연시 인파밀집 안전대책", "collection": "보도"}).json()
        assert hits["results"] and hits["results"][0]["collection"] == "보도"


def test_load_generator(server: Server) -> None:
    result = run_load(server.url, server.keys["kim"], clients=2, seconds=2)
    assert result["total"]["requests"] > 0 and result["total"]["errors"] == 0
    assert result["search"]["p50_ms"] is not None and result["chat"]["requests"] + result["search"]["requests"] == \
        result["total"]["requests"]
    out = CliRunner().invoke(load, ["--url", server.url, "--key", server.keys["kim"], "--clients", "2",
                                    "--seconds", "1", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["total"]["errors"] == 0
    bad = CliRunner().invoke(load, ["--url", "http://127.0.0.1:1", "--key", "x", "--seconds", "1"])
    assert bad.exit_code != 0 and "서버가 준비되지 않았습니다" in bad.output


def test_load_with_document_churn(server: Server) -> None:
    """Readers search and ask while the admin uploads, finds and deletes 민감 notices: no errors,
    every upload found by its uploader, none seen by a 공개 user."""
    result = run_load(server.url, server.keys["kim"], clients=2, seconds=4, churn_key=server.keys["admin"])
    assert result["error_kinds"] == {}, result["error_kinds"]
    assert result["upload"]["requests"] >= 1 and result["visible"]["errors"] == 0
    assert result["delete"]["errors"] == 0 and result["total"]["errors"] == 0
    assert result["leak_checked"] and result["leaks"] == 0  # readers asked for the notices too
    kim = {"Authorization": f"Bearer {server.keys['kim']}"}
    r = httpx.post(server.url + "/v1/search", json={"query": "부하시험표식 연락 체계", "k": 10}, headers=kim)
    assert r.status_code == 200 and all("부하시험표식" not in h["text"] for h in r.json()["results"])


def test_the_load_probe_reports_a_reader_who_sees_a_notice(server: Server) -> None:
    """The leak check is real: a reader who may see 민감 documents (a second key of the admin)
    asking for a notice that is there is reported as a leak."""
    import time as _time

    from dasan.bench.load import MARKER, _client_loop, _Shared

    admin = {"Authorization": f"Bearer {server.keys['admin']}"}
    body = f"부하 시험용 비공개 알림 {MARKER}99999\n\n야간 점검 일정과 연락 체계를 정리한다.\n".encode()
    r = httpx.post(server.url + "/v1/documents", data={"collection": "부하시험", "level": "민감"},
                   files={"files": ("probe.txt", body, "text/plain")}, headers=admin)
    assert r.status_code == 202
    job = r.json()["job"]
    for _ in range(200):
        j = httpx.get(f"{server.url}/v1/jobs/{job}", headers=admin).json()
        if j.get("done"):
            break
        _time.sleep(0.05)
    doc = next(f["document_id"] for f in j["files"] if f.get("document_id"))
    try:
        shared = _Shared()
        _client_loop(server.url, server.keys["admin2"], _time.perf_counter() + 3, 0.0, 7, shared, 60, probe=True)
        assert shared.leaks > 0 and any(k.startswith("leak") for k in shared.errors)
        shared = _Shared()  # the same probe as a 공개 user: nothing
        _client_loop(server.url, server.keys["kim"], _time.perf_counter() + 2, 0.0, 7, shared, 60, probe=True)
        assert shared.leaks == 0 and shared.errors == {}
    finally:
        httpx.delete(f"{server.url}/v1/documents/{doc}", headers=admin)
