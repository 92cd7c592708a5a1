"""``dasan bench load``: concurrent clients against a running ``dasan serve``.

Each client is a thread with its own HTTP connection that, until the time is up, sends either a
``POST /v1/search`` or a non-streaming ``POST /v1/chat/completions`` (model ``dasan``) with a
Korean question about the sample corpus (``examples/``). Reported: requests per second, p50/p95
latency per kind, errors. The clients share the machine with the server unless run elsewhere,
so on a small machine the numbers are a lower bound for the server alone.

``--churn``: one more client uploads a small 민감 notice (``POST /v1/documents``), waits for its
job, searches for it (it must be found by the uploader: how long an upload takes to become
searchable) and deletes it again, for the whole run — the index changes under the readers.
The readers then also ask about the notice (a quarter of their requests) and every reader
response is checked for its marker: a reader (a user without 민감 clearance) who receives any
of it counts as a leak (``leaks``), which is an error.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import click
import httpx
import numpy as np

QUERIES: tuple[str, ...] = (
    "선로 작업 중 열차가 접근하면 어떻게 대피해야 하나요?",
    "작업 차단 승인 전에 선로에 들어가도 되나요?",
    "전차선 작업 전 감전을 예방하는 절차는?",
    "열차감시원은 어떤 일을 하나요?",
    "현장에서 사고가 나면 누구에게 어떻게 보고하나요?",
    "여름철 도시철도 안전점검은 무엇을 점검하나요?",
    "연말연시 인파 밀집 안전대책의 주요 내용은?",
    "2026년 청년정책 시행계획은 무엇인가요?",
    "신호 장애 사고의 원인과 재발방지대책은?",
    "출입문 끼임 사고는 어떻게 조치했나요?",
    "야간 선로작업 시작 시각이 바뀌었나요?",
    "열차 접근 경보장치 배터리 점검",
)
# What the churn client's 민감 notices say (readers ask for them; none may ever be answered).
MARKER = "부하시험표식"
NOTICE_QUERIES: tuple[str, ...] = (
    "부하 시험용 비공개 알림의 야간 점검 일정과 연락 체계는?",
    "비공개 알림 부하시험표식",
)


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    status: int


@dataclass
class _Shared:
    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    leaks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client_loop(url: str, key: str, deadline: float, chat_share: float, seed: int, shared: _Shared,
                 timeout: float, probe: bool = False) -> None:
    """``probe``: a quarter of the questions ask for the churn client's 민감 notices, and every
    response is checked for their marker (a leak is recorded as an error)."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    mine: list[Sample] = []
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
        while time.perf_counter() < deadline:
            q = rng.choice(NOTICE_QUERIES) if probe and rng.random() < 0.25 else rng.choice(QUERIES)
            if rng.random() < chat_share:
                kind, path = "chat", "/v1/chat/completions"
                body: dict[str, Any] = {"model": "dasan", "messages": [{"role": "user", "content": q}]}
            else:
                kind, path, body = "search", "/v1/search", {"query": q, "k": 5}
            t0 = time.perf_counter()
            try:
                r = client.post(path, json=body)
                ok, status = r.status_code == 200, r.status_code
                if ok:
                    r.json()
                err = None if ok else f"HTTP {status}"
                if probe and MARKER in r.text:
                    ok, err = False, "leak: 민감 알림이 권한 없는 사용자에게 보임"
                    with shared.lock:
                        shared.leaks += 1
            except (httpx.HTTPError, ValueError) as e:
                ok, status, err = False, 0, type(e).__name__
            mine.append(Sample(kind, (time.perf_counter() - t0) * 1000, ok, status))
            if err:
                with shared.lock:
                    shared.errors[err] = shared.errors.get(err, 0) + 1
    with shared.lock:
        shared.samples.extend(mine)


def _stats(samples: list[Sample], seconds: float) -> dict[str, Any]:
    ms = np.array([s.ms for s in samples if s.ok]) if samples else np.zeros(0)
    return {
        "requests": len(samples),
        "errors": sum(1 for s in samples if not s.ok),
        "rps": round(len(samples) / seconds, 2) if seconds > 0 else 0.0,
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if ms.size else None,
        "p95_ms": round(float(np.percentile(ms, 95)), 1) if ms.size else None,
        "max_ms": round(float(ms.max()), 1) if ms.size else None,
    }


def _churn_loop(url: str, key: str, deadline: float, shared: _Shared, timeout: float) -> None:
    """Upload, wait until searchable, delete; record each step (kinds upload/visible/delete)."""
    headers = {"Authorization": f"Bearer {key}"}
    mine: list[Sample] = []
    n = 0

    def fail(kind: str, err: str, t0: float, status: int = 0) -> None:
        mine.append(Sample(kind, (time.perf_counter() - t0) * 1000, False, status))
        with shared.lock:
            shared.errors[f"{kind}: {err}"] = shared.errors.get(f"{kind}: {err}", 0) + 1

    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
        while time.perf_counter() < deadline:
            n += 1
            tag = f"부하시험표식{n:05d}{random.randrange(10**6):06d}"
            body = f"부하 시험용 비공개 알림 {tag}\n\n야간 점검 일정과 {tag} 연락 체계를 정리한다.\n"
            t0 = time.perf_counter()
            try:
                r = client.post("/v1/documents", data={"collection": "부하시험", "level": "민감"},
                                files={"files": (f"{tag}.txt", body.encode(), "text/plain")})
                if r.status_code != 202:
                    fail("upload", f"HTTP {r.status_code}", t0, r.status_code)
                    continue
                job = r.json()["job"]
                doc_id = None
                while time.perf_counter() < deadline + timeout:
                    j = client.get(f"/v1/jobs/{job}").json()
                    if j.get("done"):
                        doc_id = next((f.get("document_id") for f in j["files"] if f.get("document_id")), None)
                        break
                    time.sleep(0.05)
                mine.append(Sample("upload", (time.perf_counter() - t0) * 1000, doc_id is not None, 202))
                if doc_id is None:
                    fail("upload", "job failed", t0)
                    continue
                found = False
                t1 = time.perf_counter()
                while not found and time.perf_counter() - t1 < 30:
                    hits = client.post("/v1/search", json={"query": tag, "k": 3}).json().get("results", [])
                    found = any(tag in (h.get("text") or h.get("snippet") or "") for h in hits)
                    if not found:
                        time.sleep(0.05)
                mine.append(Sample("visible", (time.perf_counter() - t0) * 1000, found, 200))
                if not found:
                    fail("visible", "upload not found by its uploader", t1)
                t2 = time.perf_counter()
                r = client.delete(f"/v1/documents/{doc_id}")
                mine.append(Sample("delete", (time.perf_counter() - t2) * 1000, r.status_code == 200, r.status_code))
                if r.status_code != 200:
                    fail("delete", f"HTTP {r.status_code}", t2, r.status_code)
            except (httpx.HTTPError, ValueError, KeyError) as e:
                fail("churn", type(e).__name__, t0)
    with shared.lock:
        shared.samples.extend(mine)


def run_load(url: str, key: str, clients: int = 20, seconds: float = 60.0, chat_share: float = 0.5,
             timeout: float = 120.0, churn_key: str | None = None) -> dict[str, Any]:
    """Run the load and return the summary (see the module docstring). ``churn_key``: a key
    that may upload and delete documents; with it, one more client churns documents."""
    shared = _Shared()
    start = time.perf_counter()
    deadline = start + seconds
    probe = churn_key is not None and churn_key != key  # readers are not the uploader
    threads = [threading.Thread(target=_client_loop, args=(url, key, deadline, chat_share, i, shared, timeout, probe),
                                name=f"load-{i}", daemon=True) for i in range(clients)]
    if churn_key:
        threads.append(threading.Thread(target=_churn_loop, args=(url, churn_key, deadline, shared, timeout),
                                        name="load-churn", daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 5)
    elapsed = time.perf_counter() - start
    out: dict[str, Any] = {"url": url, "clients": clients, "seconds": round(elapsed, 1), "chat_share": chat_share,
                           "total": _stats(shared.samples, elapsed)}
    for kind in ("search", "chat"):
        out[kind] = _stats([s for s in shared.samples if s.kind == kind], elapsed)
    if churn_key:
        for kind in ("upload", "visible", "delete"):
            out[kind] = _stats([x for x in shared.samples if x.kind == kind], elapsed)
        out["total"] = _stats([x for x in shared.samples if x.kind in ("search", "chat")], elapsed)
    out["error_kinds"] = dict(shared.errors)
    if churn_key:
        out["leaks"] = shared.leaks
        out["leak_checked"] = churn_key != key
    return out


@click.command("load")
@click.option("--url", required=True, help="서버 주소 (예: http://127.0.0.1:8000)")
@click.option("--key", required=True, envvar="DASAN_API_KEY", help="API 키 (또는 환경 변수 DASAN_API_KEY)")
@click.option("--clients", default=20, show_default=True, type=click.IntRange(1, 1000), help="동시 클라이언트 수")
@click.option("--seconds", default=60.0, show_default=True, type=click.FloatRange(1, 3600), help="측정 시간(초)")
@click.option("--chat-share", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="요청 중 답변(chat) 요청의 비율 (나머지는 검색)")
@click.option("--churn", is_flag=True, help="한 클라이언트가 문서를 올리고 찾고 지우기를 반복합니다 (색인이 바뀌는 중의 부하)")
@click.option("--churn-key", envvar="DASAN_CHURN_KEY", default=None,
              help="문서를 올리고 지울 수 있는 API 키 (기본: --key)")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
def load(url: str, key: str, clients: int, seconds: float, chat_share: float, churn: bool, churn_key: str | None,
         as_json: bool) -> None:
    """동시 접속 부하 시험: 검색과 답변(chat)을 섞어 보내고 처리량과 지연시간을 잽니다."""
    try:
        httpx.get(url.rstrip("/") + "/readyz", timeout=10).raise_for_status()
    except httpx.HTTPError as e:
        raise click.ClickException(f"서버가 준비되지 않았습니다: {url} ({type(e).__name__}). `dasan serve`가 실행 중인지, "
                                   "/readyz가 200인지 확인하세요.") from e
    result = run_load(url, key, clients=clients, seconds=seconds, chat_share=chat_share,
                      churn_key=(churn_key or key) if churn else None)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"클라이언트 {clients}개 × {result['seconds']}초, 대상 {url}")
    click.echo(f"{'종류':<8}{'요청':>8}{'오류':>6}{'req/s':>9}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind in ("search", "chat", "total", *(("upload", "visible", "delete") if churn else ())):
        m = result[kind]
        click.echo(f"{kind:<8}{m['requests']:>8}{m['errors']:>6}{m['rps']:>9}{m['p50_ms']!s:>10}{m['p95_ms']!s:>10}"
                   f"{m['max_ms']!s:>10}")
    if churn:
        click.echo(f"민감 알림 노출: {result['leaks']}건" if result["leak_checked"]
                   else "민감 알림 노출 검사 없음 (--churn-key가 --key와 같음)")
    if result["error_kinds"]:
        click.echo("오류: " + ", ".join(f"{k} {v}건" for k, v in result["error_kinds"].items()))
