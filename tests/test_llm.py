"""Language-model backends: the shared contract (fake OpenAI server + real llama.cpp) and specifics."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, default_reply

from dasan.errors import ConfigError, LLMError
from dasan.llm import GenerationParams, LLMBackend, get_backend, level_allows, normalize_level
from dasan.llm.base import StopFilter, cut_at_stop, filtered
from dasan.llm.openai import OpenAIBackend
from dasan.llm.prompt import render_transcript, transcript_stops

Q = [{"role": "user", "content": "철도안전법의 목적은?"}]
FEW_SHOT = [
    {"role": "system", "content": "짧게 답하세요."},
    {"role": "user", "content": "대한민국의 수도는?"},
    {"role": "assistant", "content": "서울"},
    {"role": "user", "content": "일본의 수도는?"},
]


def _require_llama_cpp() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError as e:
        msg = f"llama-cpp-python not importable: {e}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as f:
        yield f


@pytest.fixture
def oai(fake: FakeOpenAI) -> Iterator[OpenAIBackend]:
    with OpenAIBackend(fake.url, fake.model, retries=2, backoff=0.01, max_backoff=0.05) as b:
        yield b


@pytest.fixture(scope="module")
def llama() -> LLMBackend:
    _require_llama_cpp()
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("HF_DATASETS_OFFLINE", "1")
    mp.delenv("DASAN_GGUF", raising=False)
    try:
        t0 = time.perf_counter()
        # one thread: llama.cpp's spinning thread pool slows down badly when the (2-core) test
        # machine is shared with other work; the default is one thread per core
        backend = get_backend("llama-cpp", n_threads=1)
        print(f"\n[llama-cpp] loaded {backend.model} in {time.perf_counter() - t0:.2f}s")
        return backend
    finally:
        mp.undo()


@pytest.fixture(params=["openai", "llama-cpp"])
def backend(request: pytest.FixtureRequest) -> LLMBackend:
    if request.param == "openai":
        return request.getfixturevalue("oai")
    return request.getfixturevalue("llama")


SHORT = GenerationParams(max_tokens=12, temperature=0.0, timeout_s=60)


# -- contract: every backend --------------------------------------------------------------------
def test_contract_attributes(backend: LLMBackend) -> None:
    assert isinstance(backend, LLMBackend)
    assert backend.name in ("openai", "llama-cpp")
    assert backend.model
    assert backend.max_level == ("기밀" if backend.name == "llama-cpp" else "공개")


def test_contract_chat_returns_text(backend: LLMBackend) -> None:
    out = backend.chat(FEW_SHOT, SHORT)
    assert isinstance(out, str)
    assert out.strip()


def test_contract_stream_equals_chat(backend: LLMBackend) -> None:
    whole = backend.chat(Q, SHORT)
    deltas = list(backend.stream(Q, SHORT))
    assert all(isinstance(d, str) and d for d in deltas)
    assert "".join(deltas) == whole
    if backend.name == "openai":
        assert len(deltas) > 1  # really streamed in pieces


def test_contract_stop_strings(backend: LLMBackend) -> None:
    base = backend.chat(Q, SHORT)
    assert len(base) >= 3, base
    stop = base[len(base) // 2 :][:3]  # a piece from the middle of the greedy answer
    expected = base[: base.index(stop)]
    p = GenerationParams(max_tokens=SHORT.max_tokens, stop=[stop, "절대안나올문자열"])
    assert backend.chat(Q, p) == expected
    assert "".join(backend.stream(Q, p)) == expected


def test_contract_bad_messages(backend: LLMBackend) -> None:
    with pytest.raises(LLMError, match="비어"):
        backend.chat([], SHORT)
    with pytest.raises(LLMError, match="role"):
        backend.chat([{"role": "robot", "content": "x"}], SHORT)
    with pytest.raises(LLMError, match="role"):
        list(backend.stream([{"role": "tool", "content": "x"}], SHORT))
    with pytest.raises(ConfigError):
        backend.chat(Q, GenerationParams(max_tokens=0))


def test_contract_stream_closed_early(backend: LLMBackend) -> None:
    it = backend.stream(Q, SHORT)
    first = next(iter(it))
    assert first
    it.close()  # type: ignore[attr-defined]
    assert backend.chat(Q, SHORT)  # the backend is usable again (lock / connection released)


# -- helpers in base / prompt -------------------------------------------------------------------
def test_transcript_rendering() -> None:
    text = render_transcript(FEW_SHOT)
    assert text == "짧게 답하세요.\n\n질문: 대한민국의 수도는?\n답변: 서울\n\n질문: 일본의 수도는?\n답변:"
    prefill = render_transcript([*Q, {"role": "assistant", "content": "목적은"}])
    assert prefill.endswith("질문: 철도안전법의 목적은?\n답변: 목적은")
    assert "\n질문:" in transcript_stops()
    assert render_transcript(Q, user_label="Q", assistant_label="A") == "Q: 철도안전법의 목적은?\nA:"


def test_stop_filter_holds_back_split_stop() -> None:
    pieces = ["답변", "입니다.\n", "질", "문: 다음"]
    assert list(filtered(pieces, ["\n질문:"])) == ["답변", "입니다."]
    f = StopFilter(["END"], strip=True)
    assert f.feed("  ") == ""
    assert f.feed(" 가나 E") == "가나"
    assert f.feed("N") == ""
    assert f.feed("X") == " ENX"
    assert f.feed("다 \n") == "다"
    assert f.flush() == ""
    assert list(filtered([" 가", "나 ", "\n질문: 다"], ["\n질문:"], strip=True)) == ["가", "나"]
    assert cut_at_stop("가나다라", ["라", "나"]) == "가"
    assert list(filtered(["abc"], [])) == ["abc"]


def test_levels() -> None:
    assert normalize_level("C") == "기밀" and normalize_level("public") == "공개"
    assert level_allows("기밀", "민감") and level_allows("공개", "공개")
    assert not level_allows("공개", "민감")
    with pytest.raises(ConfigError, match="보안 등급"):
        normalize_level("극비")


def test_factory_reads_env(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.api_key = "sk-test"
    monkeypatch.setenv("DASAN_LLM_URL", fake.url)
    monkeypatch.setenv("DASAN_LLM_MODEL", fake.model)
    monkeypatch.setenv("DASAN_LLM_API_KEY", "sk-test")
    monkeypatch.setenv("DASAN_LLM_MAX_LEVEL", "민감")
    b = get_backend("openai")
    assert (b.model, b.max_level) == (fake.model, "민감")
    assert b.chat(Q, SHORT) == default_reply(Q)[: 3 * SHORT.max_tokens]
    assert get_backend("openai", max_level="공개").max_level == "공개"  # explicit option wins


def test_factory_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASAN_LLM_URL", raising=False)
    monkeypatch.delenv("DASAN_LLM_MODEL", raising=False)
    with pytest.raises(ConfigError, match="백엔드"):
        get_backend("gpt-cloud")
    with pytest.raises(ConfigError, match="주소"):
        get_backend("openai", model="m")
    with pytest.raises(ConfigError, match="모델 이름"):
        get_backend("openai", base_url="http://localhost:1/v1")
    with pytest.raises(ConfigError, match="옵션"):
        get_backend("openai", base_url="http://localhost:1/v1", model="m", no_such_option=1)
    with pytest.raises(ConfigError, match="보안 등급"):
        get_backend("openai", base_url="http://localhost:1/v1", model="m", max_level="top")
    monkeypatch.setenv("DASAN_LLM_N_CTX", "lots")
    with pytest.raises(ConfigError, match="DASAN_LLM_N_CTX"):
        get_backend("llama-cpp")


# -- openai specifics ---------------------------------------------------------------------------
def test_openai_request_shape(fake: FakeOpenAI, oai: OpenAIBackend) -> None:
    oai.chat(FEW_SHOT, GenerationParams(max_tokens=7, temperature=0.2, stop=["a", "b", "c", "d", "e"]))
    req = fake.requests[-1]
    assert req["messages"] == FEW_SHOT
    assert (req["max_tokens"], req["temperature"], req["stream"]) == (7, 0.2, False)
    assert req["stop"] == ["a", "b", "c", "d"]  # OpenAI accepts at most four
    assert oai.list_models() == [fake.model]


@pytest.mark.parametrize("mode", ["chat", "stream"])
def test_openai_retries_then_succeeds(fake: FakeOpenAI, oai: OpenAIBackend, mode: str) -> None:
    fake.faults = ["500", "429"]
    out = oai.chat(Q, SHORT) if mode == "chat" else "".join(oai.stream(Q, SHORT))
    assert out == default_reply(Q)[: 3 * SHORT.max_tokens]
    assert fake.chat_requests == 3


@pytest.mark.parametrize("mode", ["chat", "stream"])
def test_openai_gives_up(fake: FakeOpenAI, oai: OpenAIBackend, mode: str) -> None:
    fake.default_fault = "503"
    with pytest.raises(LLMError, match="HTTP 503"):
        oai.chat(Q, SHORT) if mode == "chat" else list(oai.stream(Q, SHORT))
    assert fake.chat_requests == 1 + oai.retries


@pytest.mark.parametrize("mode", ["chat", "stream"])
def test_openai_timeout_is_fast_and_not_retried(fake: FakeOpenAI, oai: OpenAIBackend, mode: str) -> None:
    fake.faults = ["hang"]
    p = GenerationParams(max_tokens=8, timeout_s=0.3)
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="시간 초과"):
        oai.chat(Q, p) if mode == "chat" else list(oai.stream(Q, p))
    assert time.monotonic() - t0 < 3
    assert fake.chat_requests == 1


def test_openai_timeout_mid_stream(fake: FakeOpenAI, oai: OpenAIBackend) -> None:
    fake.faults = ["hang_after:2"]
    got: list[str] = []
    with pytest.raises(LLMError, match="시간 초과"):
        for d in oai.stream(Q, GenerationParams(timeout_s=0.3)):
            got.append(d)
    assert "".join(got) == default_reply(Q)[:6]


def test_openai_bad_key(fake: FakeOpenAI) -> None:
    fake.api_key = "sk-right"
    with pytest.raises(LLMError, match="API 키") as ei:
        OpenAIBackend(fake.url, fake.model, api_key="sk-wrong").chat(Q, SHORT)
    assert ei.value.code == "llm_error"
    with pytest.raises(LLMError, match="DASAN_LLM_API_KEY"):
        list(OpenAIBackend(fake.url, fake.model).stream(Q, SHORT))
    assert fake.chat_requests == 2  # 401 is not retried
    assert OpenAIBackend(fake.url, fake.model, api_key="sk-right").chat(Q, SHORT)


def test_openai_unknown_model(fake: FakeOpenAI) -> None:
    with pytest.raises(LLMError, match="/v1/models"):
        OpenAIBackend(fake.url, "no-such-model").chat(Q, SHORT)


@pytest.mark.parametrize("mode", ["chat", "stream"])
def test_openai_malformed(fake: FakeOpenAI, oai: OpenAIBackend, mode: str) -> None:
    fake.faults = ["malformed"]
    with pytest.raises(LLMError, match="OpenAI 호환 형식"):
        oai.chat(Q, SHORT) if mode == "chat" else list(oai.stream(Q, SHORT))


def test_openai_drop_mid_stream_is_not_retried(fake: FakeOpenAI, oai: OpenAIBackend) -> None:
    fake.faults = ["drop_after:2"]
    got: list[str] = []
    with pytest.raises(LLMError, match="끊겼"):
        for d in oai.stream(Q, GenerationParams()):
            got.append(d)
    assert "".join(got) == default_reply(Q)[:6]  # exactly what was received, nothing repeated
    assert fake.chat_requests == 1


def test_openai_drop_before_first_delta_is_retried(fake: FakeOpenAI, oai: OpenAIBackend) -> None:
    fake.faults = ["drop_after:0"]
    assert "".join(oai.stream(Q, GenerationParams())) == default_reply(Q)
    assert fake.chat_requests == 2


def test_openai_unreachable() -> None:
    b = OpenAIBackend("http://127.0.0.1:9/v1", "m", retries=1, backoff=0.01)
    t0 = time.monotonic()
    with pytest.raises(LLMError, match="연결할 수 없습니다"):
        b.chat(Q, SHORT)
    with pytest.raises(LLMError, match="DASAN_LLM_URL"):
        list(b.stream(Q, SHORT))
    assert time.monotonic() - t0 < 5


def test_openai_client_side_stop() -> None:
    with FakeOpenAI(ignore_stop=True, chunk_chars=2) as fake:
        b = OpenAIBackend(fake.url, fake.model)
        p = GenerationParams(stop=["근거:"])
        want = default_reply(Q).split("근거:")[0]
        assert b.chat(Q, p) == want
        assert "".join(b.stream(Q, p)) == want


def test_openai_concurrent_streams(fake: FakeOpenAI, oai: OpenAIBackend) -> None:
    out: list[str] = []

    def work() -> None:
        out.append("".join(oai.stream(Q, GenerationParams())))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert out == [default_reply(Q)] * 4


# -- llama-cpp specifics ------------------------------------------------------------------------
def test_llama_bundled_model_offline(llama: LLMBackend) -> None:
    from dasan.llm.llamacpp import bundled_gguf_path

    path = bundled_gguf_path()
    assert path.name == llama.model == "gemma-3-270m-q4_k_m.gguf"
    assert path.read_bytes()[:4] == b"GGUF"
    assert not llama.uses_template  # type: ignore[attr-defined]  # base model: transcript prompt
    t0 = time.perf_counter()
    deltas = list(llama.stream(FEW_SHOT, GenerationParams(max_tokens=16)))
    total = time.perf_counter() - t0
    ttft = llama.last_ttft_s  # type: ignore[attr-defined]
    print(f"\n[llama-cpp] TTFT {ttft:.3f}s, {len(deltas)} deltas in {total:.3f}s: {''.join(deltas)!r}")
    assert deltas and ttft is not None


def test_llama_threads_share_one_model(llama: LLMBackend) -> None:
    want = llama.chat(Q, SHORT)
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(llama.chat(Q, SHORT))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == [want] * 2
    from dasan.llm.llamacpp import LlamaCppBackend

    again = LlamaCppBackend()
    assert again._loaded is llama._loaded  # type: ignore[attr-defined]  # cached per process


def test_llama_prompt_too_long(llama: LLMBackend) -> None:
    from dasan.llm.llamacpp import LlamaCppBackend

    small = LlamaCppBackend(llama.path, n_ctx=64)  # type: ignore[attr-defined]
    with pytest.raises(LLMError, match="컨텍스트"):
        small.chat([{"role": "user", "content": "철도안전법 제1조 " * 40}], SHORT)


def test_llama_bad_model_files(tmp_path: Path) -> None:
    from dasan.llm.llamacpp import LlamaCppBackend

    with pytest.raises(LLMError, match="GGUF 모델 파일이 없습니다"):
        LlamaCppBackend(tmp_path / "missing.gguf")
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(LLMError, match="GGUF 형식"):
        LlamaCppBackend(bogus)
    with pytest.raises(ConfigError, match="chat_format"):
        LlamaCppBackend(bogus, chat_format="chatml")


def test_llama_chat_completion_path(llama: LLMBackend) -> None:
    """The create_chat_completion branch (models with a chat template), driven on the bundled model
    through llama-cpp-python's fallback chat format; also sampling with temperature > 0."""
    from dasan.llm.llamacpp import LlamaCppBackend

    b = LlamaCppBackend(llama.path)  # type: ignore[attr-defined]
    b.uses_template = True
    whole = b.chat(Q, SHORT)  # the base model may well answer "" in a format it was not trained on
    assert isinstance(whole, str)
    assert "".join(b.stream(Q, SHORT)) == whole
    hot = llama.chat(Q, GenerationParams(max_tokens=8, temperature=0.8))
    assert isinstance(hot, str)
