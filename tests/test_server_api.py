"""The HTTP API end to end (FastAPI TestClient): auth semantics, clearance isolation on every
read path, uploads through the background worker, JSON errors, audit, OpenAPI completeness."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dasan import config
from dasan.errors import AuditError
from dasan.rag.retrieve import RetrievalConfig
from dasan.security.access import check_key_scopes
from dasan.security.principals import SCOPES
from dasan.server.app import create_app

EXAMPLES = config.examples_dir()
HWPX = sorted((EXAMPLES / "press").glob("*.hwpx"))[0]
SECRET = "푸른솔 작전 점검 계획: 비상 발전기 교체는 관제센터 승인 후 새벽에 진행한다. 담당 연락처 010-2345-6789."
SECRET_QUERY = "푸른솔 작전 비상 발전기 교체"
HANGUL = re.compile(r"[가-힣]")


class FakeLLM:
    """A stand-in language model (no weights): repeats a sentence the manual supports."""

    name = "fake"
    model = "fake-1"
    max_level = "기밀"

    def chat(self, messages: list[dict[str, str]], params: Any) -> str:
        return "".join(self.stream(messages, params))

    def stream(self, messages: list[dict[str, str]], params: Any) -> Iterator[str]:
        yield from ["작업자는 미리 정한 대피 공간으로 ", "이동한다."]


@dataclass
class Env:
    app: Any
    client: TestClient
    state: Any
    keys: dict[str, str]
    secret_doc: str

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


def wait_job(client: TestClient, job: str, headers: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = client.get(f"/v1/jobs/{job}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["done"]:
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"job {job} not done in {timeout}s")


def assert_error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "type"}
    assert HANGUL.search(err["message"]), err
    if code:
        assert err["code"] == code == err["type"]
    return err


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASAN_AUDIT_SYNC", "normal")  # no fsync per audit append: keeps the tests fast
        data = tmp_path_factory.mktemp("server") / "data"
        app = create_app(data, ingest_samples=True, retrieval=RetrievalConfig(embedder=None),
                         backends={"fake": FakeLLM()})
        state = app.state.dasan
        d = state.directory()
        d.add_department("안전처")
        d.add_department("감사실")
        users = {"admin": ("기밀", "admin", ()), "kim": ("공개", "user", ()), "lee": ("민감", "user", ()),
                 "mgr": ("민감", "manager", ("안전처",)), "aud": ("공개", "auditor", ("감사실",))}
        keys = {}
        for name, (clearance, role, depts) in users.items():
            d.add_user(name, clearance=clearance, role=role, departments=depts)
            wanted = [x for x in SCOPES if x != "audit"] if role == "manager" else SCOPES if role == "admin" else ()
            keys[name] = d.create_key(name, check_key_scopes(role, wanted)).key
        keys["kim_search_only"] = d.create_key("kim", ["search"]).key
        revoked = d.create_key("kim", ["search"])
        d.revoke_key(revoked.record.id)
        keys["revoked"] = revoked.key
        with TestClient(app) as client:
            state.wait_ready(180)
            auth = {"Authorization": f"Bearer {keys['admin']}"}
            r = client.post("/v1/documents", headers=auth, data={"collection": "내부", "level": "민감"},
                            files={"files": ("푸른솔 계획.txt", SECRET.encode(), "text/plain")})
            assert r.status_code == 202, r.text
            job = wait_job(client, r.json()["job"], auth)
            assert job["files"][0]["status"] == "ingested", job
            yield Env(app, client, state, keys, job["files"][0]["document_id"])


# -- health, auth ----------------------------------------------------------------------------
def test_health_and_ready(env: Env) -> None:
    assert env.client.get("/healthz").json() == {"status": "ok"}
    r = env.client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["documents"] >= 7 and body["chunks"] > 50


def test_auth_401_403_404(env: Env) -> None:
    c = env.client
    r = c.post("/v1/search", json={"query": "대피"})
    assert_error(r, 401, "auth_required")
    assert r.headers["www-authenticate"] == "Bearer"
    assert_error(c.post("/v1/search", json={"query": "대피"}, headers={"Authorization": "Bearer dsn_0000"}), 401,
                 "invalid_key")
    assert_error(c.get("/v1/collections", headers={"Authorization": "Bearer " + "dsn_0123abcd_" + "A" * 43}), 401,
                 "invalid_key")
    assert_error(c.get("/v1/models", headers=env.h("revoked")), 401, "key_revoked")
    # a key limited to search may not ask, read documents or upload
    only = env.h("kim_search_only")
    assert c.post("/v1/search", json={"query": "대피"}, headers=only).status_code == 200
    assert_error(c.post("/v1/chat/completions", headers=only,
                        json={"model": "dasan", "messages": [{"role": "user", "content": "대피 요령"}]}), 403,
                 "permission_denied")
    assert_error(c.get("/v1/documents", headers=only), 403, "permission_denied")
    # role checks
    assert_error(c.post("/v1/users", headers=env.h("kim"), json={"name": "x", "clearance": "공개"}), 403)
    assert_error(c.get("/v1/audit", headers=env.h("kim")), 403)
    assert_error(c.post("/v1/documents", headers=env.h("kim"),
                        files={"files": ("a.txt", "안녕하세요".encode(), "text/plain")}), 403)
    # invisible is "not found", exactly like absent
    absent = assert_error(c.get("/v1/documents/" + "0" * 32, headers=env.h("kim")), 404, "not_found")
    hidden = assert_error(c.get(f"/v1/documents/{env.secret_doc}", headers=env.h("kim")), 404, "not_found")
    assert absent["message"].split(":")[0] == hidden["message"].split(":")[0]


def test_login(env: Env) -> None:
    r = env.client.post("/v1/login", json={"key": env.keys["lee"]})
    assert r.status_code == 200
    assert r.json() == {"user": "lee", "clearance": "민감", "roles": ["user"], "departments": [],
                        "scopes": ["search", "ask", "docs"]}
    assert_error(env.client.post("/v1/login", json={"key": "dsn_deadbeef_" + "x" * 43}), 401, "invalid_key")
    assert_error(env.client.post("/v1/login", json={}), 400, "invalid_request")
    tail = env.state.audit.tail(5)
    failed = [e for e in tail if e.action == "login" and e.details.get("outcome") == "error"]
    assert failed and failed[-1].actor == "anonymous" and "x" * 43 not in str(failed[-1].to_dict())


# -- clearance isolation on every read path ------------------------------------------------
def test_uncleared_user_never_sees_sensitive_document(env: Env) -> None:
    c, doc = env.client, env.secret_doc
    for who, sees in (("kim", False), ("aud", False), ("lee", True), ("admin", True)):
        h = env.h(who)
        hits = c.post("/v1/search", headers=h, json={"query": SECRET_QUERY, "k": 10}).json()["results"]
        assert any(x["document_id"] == doc for x in hits) is sees, who
        ans = c.post("/v1/chat/completions", headers=h,
                     json={"model": "dasan", "messages": [{"role": "user", "content": "푸른솔 작전에서 비상 발전기는 언제 교체하나요?"}]})
        assert ans.status_code == 200
        body = ans.json()
        assert any(ci["document_id"] == doc for ci in body["citations"]) is sees, who
        if not sees:
            assert "푸른솔" not in body["choices"][0]["message"]["content"]
            assert all(x["document_id"] != doc for x in body["dasan"]["closest"])
        colls = {x["name"]: x for x in c.get("/v1/collections", headers=h).json()["collections"]}
        assert colls.get("내부", {"documents": 0})["documents"] == (1 if sees else 0), who
        listed = [x["id"] for x in c.get("/v1/documents", headers=h).json()["documents"]]
        assert (doc in listed) is sees
        for path in (f"/v1/documents/{doc}", f"/v1/documents/{doc}/original", f"/v1/documents/{doc[:12]}"):
            r = c.get(path, headers=h)
            expected = (200 if who == "admin" or not path.endswith("/original") else 403) if sees else 404
            assert r.status_code == expected, (who, path, r.status_code)
            if not sees:
                assert_error(r, 404)
    chunk_id = c.get(f"/v1/documents/{doc}", headers=env.h("lee")).json()["chunks"][0]["id"]
    assert_error(c.get(f"/v1/chunks/{chunk_id}", headers=env.h("kim")), 404)
    chunk = c.get(f"/v1/chunks/{chunk_id}", headers=env.h("lee")).json()
    assert chunk["document_id"] == doc and "푸른솔" in chunk["text"]
    # personal data masked on the way out (collection policy mask_answer, the default)
    assert "010-2345-6789" not in chunk["text"] and "010-****-6789" in chunk["text"]
    hit = c.post("/v1/search", headers=env.h("lee"), json={"query": SECRET_QUERY}).json()["results"][0]
    assert "010-2345-6789" not in hit["text"] + hit["snippet"] and hit["level"] == "민감"
    # the original keeps it; only staff who may file documents download it from a masking collection
    assert_error(c.get(f"/v1/documents/{doc}/original", headers=env.h("lee")), 403, "permission_denied")
    assert c.get(f"/v1/documents/{doc}/original", headers=env.h("mgr")).content == SECRET.encode()


# -- upload, jobs ----------------------------------------------------------------------------
def test_upload_hwpx_then_search_finds_it(env: Env) -> None:
    c, h = env.client, env.h("mgr")
    data = HWPX.read_bytes()
    r = c.post("/v1/documents", headers=h, data={"collection": "보도자료"},
               files=[("files", (HWPX.name, data, "application/octet-stream"))])
    assert r.status_code == 202
    assert r.json()["files"] == [{"name": HWPX.name, "status": "queued"}]
    job = wait_job(c, r.json()["job"], h)
    [f] = job["files"]
    assert f["status"] == "ingested" and f["chunks"] > 3, f
    assert job["collection"] == "보도자료" and job["level"] == "공개"
    hits = c.post("/v1/search", headers=env.h("kim"),
                  json={"query": "여름철 도시철도 안전점검 강화", "collection": "보도자료"}).json()["results"]
    assert hits and hits[0]["document_id"] == f["document_id"] and hits[0]["collection"] == "보도자료"
    doc = c.get(f"/v1/documents/{f['document_id']}", headers=env.h("kim")).json()
    assert doc["format"] == "hwpx" and doc["kind"] == "press" and len(doc["chunks"]) == f["chunks"]
    assert doc["original"] is True
    # the original, byte for byte, under a safe file name (anyone who sees it, where no masking applies)
    env.state.store.set_collection_pii_policy("보도자료", "off")
    got = c.get(f"/v1/documents/{f['document_id']}/original", headers=env.h("kim"))
    assert got.status_code == 200 and got.content == data
    assert "filename*=UTF-8''" in got.headers["content-disposition"]
    assert (env.state.data_dir / "originals" / hashlib.sha256(data).hexdigest()).is_file()
    # the same bytes again: unchanged; a job is private to its uploader
    r2 = c.post("/v1/documents", headers=h, data={"collection": "보도자료"},
                files=[("files", ("다른 이름.hwpx", data, "application/octet-stream"))])
    assert wait_job(c, r2.json()["job"], h)["files"][0]["status"] == "unchanged"
    assert_error(c.get(f"/v1/jobs/{r2.json()['job']}", headers=env.h("kim")), 404)


def test_upload_bad_files(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    c, h = env.client, env.h("mgr")
    r = c.post("/v1/documents", headers=h, data={"collection": "잡동사니"},
               files=[("files", ("../../etc/passwd.hwp", b"\xd0\xcf\x11\xe0 not really an hwp", "application/x-hwp")),
                      ("files", ("메모.txt", "선로 점검 메모입니다.".encode(), "text/plain"))])
    job = wait_job(c, r.json()["job"], h)
    bad, good = job["files"]
    assert bad["name"] == "passwd.hwp" and bad["status"] == "failed" and HANGUL.search(bad["error"])
    assert good["status"] == "ingested"
    assert not (env.state.data_dir / "etc").exists()
    # too large: per file, and 413 when nothing is acceptable
    monkeypatch.setattr(config, "MAX_FILE_BYTES", 64)
    big = ("files", ("큰파일.txt", ("가" * 100).encode(), "text/plain"))
    assert_error(c.post("/v1/documents", headers=h, files=[big]), 413, "file_too_large")
    r = c.post("/v1/documents", headers=h, files=[big, ("files", ("작음.txt", "작은 파일".encode(), "text/plain"))])
    assert r.status_code == 202
    files = wait_job(c, r.json()["job"], h)["files"]
    assert files[0]["status"] == "failed" and files[0]["code"] == "file_too_large"
    assert files[1]["status"] == "ingested"
    # filing above one's own clearance, bad level, bad collection name
    assert_error(c.post("/v1/documents", headers=h, data={"level": "기밀"}, files=[files_tuple()]), 403)
    assert_error(c.post("/v1/documents", headers=h, data={"level": "최고"}, files=[files_tuple()]), 400)
    assert_error(c.post("/v1/documents", headers=h, data={"collection": "a\u202eb"}, files=[files_tuple()]), 400)
    assert_error(c.post("/v1/documents", headers=h), 400, "invalid_request")


def files_tuple() -> tuple[str, tuple[str, bytes, str]]:
    return ("files", ("x.txt", "내용".encode(), "text/plain"))


def test_delete_document(env: Env) -> None:
    c = env.client
    r = c.post("/v1/documents", headers=env.h("admin"), data={"collection": "임시"},
               files=[("files", ("지울문서.txt", "곧 지울 임시 문서 갈매기 등대".encode(), "text/plain"))])
    doc = wait_job(c, r.json()["job"], env.h("admin"))["files"][0]["document_id"]
    assert c.post("/v1/search", headers=env.h("kim"), json={"query": "갈매기 등대"}).json()["results"]
    assert_error(c.delete(f"/v1/documents/{doc}", headers=env.h("kim")), 403)
    assert c.delete(f"/v1/documents/{doc}", headers=env.h("admin")).json() == {"removed": doc}
    assert all(x["document_id"] != doc for x in
               c.post("/v1/search", headers=env.h("kim"), json={"query": "갈매기 등대"}).json()["results"])
    assert_error(c.delete(f"/v1/documents/{doc}", headers=env.h("admin")), 404)


# -- answers -----------------------------------------------------------------------------------
def test_chat_models_and_backends(env: Env) -> None:
    c, h = env.client, env.h("kim")
    ids = [m["id"] for m in c.get("/v1/models", headers=h).json()["data"]]
    assert ids == ["dasan", "dasan-fake"]
    q = {"role": "user", "content": "선로 작업 중 열차가 접근하면 어떻게 대피해야 하나요?"}
    body = c.post("/v1/chat/completions", headers=h, json={"model": "dasan-fake", "messages": [q]}).json()
    assert body["dasan"]["backend"] == "fake" and not body["dasan"]["refused"]
    assert "[1]" in body["choices"][0]["message"]["content"] and body["citations"][0]["marker"] == 1
    assert_error(c.post("/v1/chat/completions", headers=h, json={"model": "gpt-4", "messages": [q]}), 404,
                 "model_not_found")
    assert_error(c.post("/v1/chat/completions", headers=h,
                        json={"model": "dasan", "messages": [{"role": "system", "content": "hi"}]}), 400)
    assert_error(c.post("/v1/embeddings", headers=h, json={"input": "대피"}), 400, "no_embedder")
    refused = c.post("/v1/chat/completions", headers=h, json={"messages": [
        {"role": "user", "content": "양자컴퓨터 큐비트 결맞음 시간은?"}]}).json()
    assert refused["dasan"]["refused"] and refused["citations"] == []
    # streamed over SSE: deltas, then an empty delta with the citations, then [DONE]
    with c.stream("POST", "/v1/chat/completions", headers=h, json={"messages": [q], "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(ln[6:]) for ln in lines[:-1]]
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop" and final["choices"][0]["delta"] == {}
    assert final["citations"] and final["dasan"]["backend"] == "extractive"
    text = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks)
    assert text == final["dasan"]["answer"] and "[1]" in text


def test_streaming_model_tokens_live_only_without_pii_policy(env: Env) -> None:
    c, h, store = env.client, env.h("kim"), env.state.store
    body = {"model": "dasan-fake", "stream": True, "messages": [
        {"role": "user", "content": "선로 작업 중 열차가 접근하면 어떻게 대피해야 하나요?"}]}

    def deltas() -> tuple[list[str], dict[str, Any]]:
        with c.stream("POST", "/v1/chat/completions", headers=h, json=body) as r:
            chunks = [json.loads(ln[6:]) for ln in r.iter_lines() if ln.startswith("data: {")]
        return [ch["choices"][0]["delta"].get("content") or "" for ch in chunks], chunks[-1]

    texts, final = deltas()  # collections mask personal data: only the verified answer is sent
    assert "".join(texts) == final["dasan"]["answer"] and final["dasan"]["backend"] == "fake"
    policies = {x["name"]: x["pii_policy"] for x in store.collections()}
    try:
        for name in policies:
            store.set_collection_pii_policy(name, "off")
        texts, final = deltas()  # raw model tokens as they come, then the verified answer
        assert texts[1:3] == ["작업자는 미리 정한 대피 공간으로 ", "이동한다."]
        assert "".join(texts).endswith(final["dasan"]["answer"]) and "[검증 후 답변]" in "".join(texts)
        assert final["citations"] and final["choices"][0]["finish_reason"] == "stop"
    finally:
        for name, policy in policies.items():
            store.set_collection_pii_policy(name, policy)


# -- errors, limits, audit ------------------------------------------------------------------
def test_errors_are_json_with_korean_messages(env: Env) -> None:
    c, h = env.client, env.h("kim")
    assert_error(c.get("/v1/nothing-here", headers=h), 404, "not_found")
    assert_error(c.put("/v1/search", headers=h), 405, "method_not_allowed")
    err = assert_error(c.post("/v1/search", headers=h, json={"query": "대피", "k": 999}), 400, "invalid_request")
    assert "k" in err["message"]
    assert_error(c.post("/v1/search", headers=h, content=b"{not json", ), 400, "invalid_request")
    assert_error(c.post("/v1/search", headers=h, json={"query": "대피", "date_from": "2026/01/01"}), 400)
    assert_error(c.post("/v1/search", headers=h, json={"query": "   "}), 400)
    assert_error(c.post("/v1/search", headers=h, content=b'{"query": "' + b"a" * (5 << 20) + b'"}',
                        ), 413, "request_too_large")


def test_audit_log_records_api_use_and_blocks_when_failing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    c = env.client
    c.post("/v1/search", headers=env.h("kim"), json={"query": "감전 예방 단전 절차"})
    entries = c.get("/v1/audit", headers=env.h("admin"), params={"limit": 50}).json()["entries"]
    searches = [e for e in entries if e["action"] == "search" and e["target"] == "감전 예방 단전 절차"]
    assert {e["details"]["phase"] for e in searches} == {"start", "end"}
    end = next(e for e in searches if e["details"]["phase"] == "end")
    assert end["actor"] == "kim" and end["details"]["key"] == env.keys["kim"][:12]
    assert end["details"]["chunk_ids"]
    assert c.get("/v1/audit", headers=env.h("admin"), params={"since": "2020-01-01", "limit": 3}).json()["entries"]
    assert_error(c.get("/v1/audit", headers=env.h("admin"), params={"since": "어제"}), 400)
    v = c.get("/v1/audit/verify", headers=env.h("admin")).json()
    assert v["ok"] and v["checked"] > 10
    # the log cannot be written: the operation does not run
    doc = c.get("/v1/documents", headers=env.h("admin")).json()["documents"][0]["id"]

    def broken(*_a: Any, **_k: Any) -> Any:
        raise AuditError("감사 로그에 기록하지 못해 작업을 중단합니다 (시험).")

    monkeypatch.setattr(env.state.audit, "append", broken)
    assert_error(c.post("/v1/search", headers=env.h("kim"), json={"query": "대피"}), 503, "audit_error")
    assert_error(c.delete(f"/v1/documents/{doc}", headers=env.h("admin")), 503, "audit_error")
    data = "감사 기록이 안 되면 올린 원본도 남기지 않는다".encode()
    assert_error(c.post("/v1/documents", headers=env.h("admin"), files=[("files", ("x.txt", data, "text/plain"))]),
                 503, "audit_error")
    assert not (env.state.data_dir / "originals" / hashlib.sha256(data).hexdigest()).exists()
    monkeypatch.undo()
    assert c.get(f"/v1/documents/{doc}", headers=env.h("admin")).status_code == 200


# -- administration ----------------------------------------------------------------------------
def test_admin_users_departments_keys(env: Env) -> None:
    c, admin, mgr = env.client, env.h("admin"), env.h("mgr")
    assert c.post("/v1/departments", headers=admin, json={"name": "시설과", "parent": "안전처"}).status_code == 201
    assert_error(c.post("/v1/departments", headers=mgr, json={"name": "최상위"}), 403)
    assert c.post("/v1/departments", headers=mgr, json={"name": "궤도팀", "parent": "안전처"}).status_code == 201
    tree = c.get("/v1/departments", headers=mgr).json()["departments"]
    assert any(n["name"] == "안전처" and {ch["name"] for ch in n["children"]} >= {"시설과", "궤도팀"} for n in tree)
    # managers add plain users inside their subtree, not admins
    assert_error(c.post("/v1/users", headers=mgr, json={"name": "boss", "role": "admin", "departments": ["안전처"]}), 403)
    r = c.post("/v1/users", headers=mgr, json={"name": "park", "clearance": "공개", "departments": ["궤도팀"]})
    assert r.status_code == 201 and r.json()["departments"] == ["궤도팀"]
    assert_error(c.post("/v1/users", headers=admin, json={"name": "park"}), 409, "already_exists")
    assert_error(c.post("/v1/users", headers=admin, json={"name": "x", "clearance": "최고"}), 400)
    assert "park" in [u["name"] for u in c.get("/v1/users", headers=mgr).json()["users"]]
    new = c.post("/v1/keys", headers=mgr, json={"user": "park", "scopes": ["search"]})
    assert new.status_code == 201 and new.json()["key"].startswith("dsn_") and new.json()["scopes"] == ["search"]
    key = new.json()["key"]
    assert c.post("/v1/login", json={"key": key}).json()["user"] == "park"
    listed = c.get("/v1/keys", headers=mgr).json()["keys"]
    assert all("key" not in k and "hash" not in k for k in listed)
    assert any(k["prefix"] == key[:12] for k in listed)
    assert_error(c.post("/v1/keys", headers=mgr, json={"user": "park", "expires_days": None}), 403)
    assert c.delete(f"/v1/keys/{key[:12]}", headers=mgr).json()["status"] == "revoked"
    assert_error(c.post("/v1/login", json={"key": key}), 401, "key_revoked")
    assert_error(c.delete("/v1/users/admin", headers=mgr), 403)
    assert c.delete("/v1/users/park", headers=mgr).json() == {"removed": "park"}
    assert_error(c.delete("/v1/users/park", headers=admin), 404)
    changes = [e for e in env.state.audit.tail(60) if e.action == "permission.change"]
    assert any(e.target == "keys create" and e.actor == "mgr" for e in changes)


# -- OpenAPI -------------------------------------------------------------------------------------
def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps those nested; no prefixes here)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):
            yield from api_routes(r.original_router.routes)


def test_openapi_lists_every_route(env: Env) -> None:
    spec = env.client.get("/openapi.json").json()
    routes = [r for r in api_routes(env.app.routes) if r.include_in_schema]
    assert len(routes) >= 20
    for r in routes:
        for method in r.methods - {"HEAD"}:
            op = spec["paths"][r.path][method.lower()]
            assert op.get("summary") and op.get("tags"), (r.path, method)
            ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
            assert ok.get("content") or ok.get("description"), (r.path, method)
            assert "schema" in next(iter(ok["content"].values())) or r.path.endswith("/original"), (r.path, method)
    for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/search", "/v1/documents",
                 "/v1/jobs/{job_id}", "/v1/chunks/{chunk_id}", "/v1/audit", "/v1/keys", "/healthz", "/readyz"):
        assert path in spec["paths"], path
    assert "ApiKey" in spec["components"]["securitySchemes"]


def test_web_ui_root(env: Env) -> None:
    r = env.client.get("/")
    assert r.status_code == 200 and "다산" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text)  # everything local, no CDN


def test_safe_names() -> None:
    from dasan.server.jobs import safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\kim\\보고서.hwp") == "보고서.hwp"
    assert safe_name("\u202egnp.exe") == "gnp.exe"
    assert safe_name("...") == "upload" and safe_name(None) == "upload"
    assert safe_name("a" * 300 + ".hwpx").endswith(".hwpx") and len(safe_name("a" * 300 + ".hwpx")) == 120
    assert Path(safe_name('x<y>:"|?*.txt')).name == "x_y______.txt"


def test_first_admin_key_and_serve_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from dasan.security.principals import Directory
    from dasan.server.serve import first_admin_key, serve
    from dasan.store import open_store

    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    key = first_admin_key(tmp_path)
    assert key and key.startswith("dsn_")
    assert first_admin_key(tmp_path) is None  # printed once: some user has a key now
    store = open_store(tmp_path)
    try:
        d = Directory.from_store(store)
        admin = d.get_user("admin")
        assert (admin.role, admin.clearance) == ("admin", "기밀")
        assert set(d.match_key(key).scopes) == set(SCOPES)  # type: ignore[union-attr]
    finally:
        store.close()
    out = CliRunner().invoke(serve, ["--help"])
    assert out.exit_code == 0 and "--port" in out.output and "--host" in out.output


# -- press releases: header in the document view, embargo set by an admin --------------------------
def test_press_release_header_and_embargo_endpoint(env: Env) -> None:
    c = env.client
    docs = c.get("/v1/documents", headers=env.h("admin")).json()["documents"]
    press = next(d for d in docs if d["kind"] == "press" and d["level"] == "공개")
    detail = c.get(f"/v1/documents/{press['id']}", headers=env.h("admin")).json()
    info = detail["press"]
    assert info["ministry"] and info["contacts"] and all(x["phones"] for x in info["contacts"])
    assert info["embargo_hold"] is False and info["embargo_status"]
    url = f"/v1/documents/{press['id']}/embargo"
    assert_error(c.post(url, json={"embargo": "none"}, headers=env.h("kim")), 403)
    assert_error(c.post(url, json={"embargo": "다음 주 월요일"}, headers=env.h("admin")), 422)
    r = c.post(url, json={"embargo": "2999-01-01T09:00"}, headers=env.h("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["embargo"] == "2999-01-01T09:00:00+09:00"
    visible = {d["id"] for d in c.get("/v1/documents", headers=env.h("kim")).json()["documents"]}
    assert press["id"] not in visible  # under embargo: 민감 until then
    assert c.get(f"/v1/documents/{press['id']}", headers=env.h("lee")).json()["press"]["embargo"].startswith("2999")
    r = c.post(url, json={"embargo": None}, headers=env.h("admin"))
    assert r.status_code == 200 and r.json()["embargo"] is None
    visible = {d["id"] for d in c.get("/v1/documents", headers=env.h("kim")).json()["documents"]}
    assert press["id"] in visible
    other = next(d for d in docs if d["kind"] != "press")
    assert_error(c.post(f"/v1/documents/{other['id']}/embargo", json={"embargo": "none"}, headers=env.h("admin")), 422)


def test_press_draft_endpoint(env: Env, tmp_path: Path) -> None:
    import base64

    from dasan.ingest.detect import detect_format
    from dasan.ingest.press import parse_press_release
    from dasan.ingest.readers import read_file

    c = env.client
    brief = (Path(__file__).resolve().parent.parent / "docs" / "press_brief_example.yaml").read_text(encoding="utf-8")
    r = c.post("/v1/press/draft", json={"brief": brief}, headers=env.h("kim"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["draft"]["headline"] == "2026년 학교 인공지능(AI) 기초교육 지원 계획 발표"
    assert "<html" in body["preview_html"] and body["filename"].endswith(".hwpx")
    assert not {f["rule"] for f in body["style"]} & {"missing-embargo", "missing-contact"}
    data = base64.b64decode(body["hwpx_base64"])
    assert detect_format(data, "d.hwpx") == "hwpx"
    path = tmp_path / "d.hwpx"
    path.write_bytes(data)
    pr = parse_press_release(read_file(path))
    assert pr.title == body["draft"]["headline"] and pr.embargo == "2026-03-02T09:00:00+09:00"
    assert_error(c.post("/v1/press/draft", json={"brief": "ministry: [교육부"}, headers=env.h("kim")), 400, "invalid_brief")
    bad = assert_error(c.post("/v1/press/draft", json={"brief": "ministry: 교육부\ndepartment: 과\n"},
                              headers=env.h("kim")), 400, "invalid_brief")
    assert "'distributed'" in bad["message"]  # names the missing field
    assert_error(c.post("/v1/press/draft", json={"brief": brief}, headers=env.h("kim_search_only")), 403)
    css = c.get("/v1/press/preview.css")  # the preview's rules as a file (the UI's CSP forbids inline style)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and ".headline" in css.text


def test_briefing_json_upload_becomes_one_document_per_release(env: Env) -> None:
    records = [{"NewsItemId": f"77{i}", "Title": title, "MinisterCode": "교육부", "ApproveDate": "2026-05-22 15:00:00",
                "EmbargoDate": "", "DataContents": f"<p>{body}</p>"}
               for i, (title, body) in enumerate([
                   ("학교 안전점검 결과 발표", "교육부는 전국 학교 1,200곳의 안전점검 결과를 발표했다."),
                   ("교원 연수 확대", "교육부는 교원 연수 인원을 3만 명으로 확대한다고 밝혔다."),
               ])]
    data = json.dumps(records, ensure_ascii=False).encode()
    auth = env.h("admin")
    r = env.client.post("/v1/documents", headers=auth, data={"collection": "브리핑"},
                        files={"files": ("briefing.json", data, "application/json")})
    assert r.status_code == 202, r.text
    job = wait_job(env.client, r.json()["job"], auth)
    assert job["files"][0]["status"] == "ingested", job
    docs = env.client.get("/v1/documents", headers=auth, params={"collection": "브리핑"}).json()["documents"]
    assert sorted(d["title"] for d in docs) == ["교원 연수 확대", "학교 안전점검 결과 발표"]
    assert {d["kind"] for d in docs} == {"press"}


def test_records_query_counts_rows_the_caller_may_see(env: Env) -> None:
    import csv

    reg = config.examples_dir() / "records" / "철도사고_기록_2025.csv"
    with reg.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    kim = {"Authorization": f"Bearer {env.keys['kim']}"}
    r = env.client.post("/v1/records/query", json={"question": "철도사고 기록에서 2호선 사고 몇 건?"}, headers=kim)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"]["count"] == sum(x["노선"] == "2호선" for x in rows)
    assert "노선 = 2호선" in body["answer"] and body["result"]["records"][0]["citation"].startswith("철도사고_기록_2025 #")
    assert_error(env.client.post("/v1/records/query", json={"question": "x"}), 401, "auth_required")
