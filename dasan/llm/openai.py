"""Client for any OpenAI-compatible ``POST {base_url}/chat/completions`` server.

Works with vLLM, Ollama, the llama.cpp server, TGI, LiteLLM and OpenAI itself. ``base_url``
includes the API prefix, as in the OpenAI SDK: ``http://localhost:8000/v1``.

Failures before any text reached the caller (connection refused, 429, 5xx, a dropped
connection before the first delta) are retried with exponential backoff, honouring
``Retry-After``; once text has been handed out nothing is retried, so output is never
duplicated. A read timeout is not retried either: the server is busy, asking again only adds
load. Everything ends in :class:`~dasan.errors.LLMError` with a Korean message naming the fix.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from dasan.errors import ConfigError, LLMError
from dasan.httpretry import backoff_delay, error_text, retry_after, server_message
from dasan.llm.base import (
    GenerationParams,
    check_messages,
    check_params,
    cut_at_stop,
    filtered,
    normalize_level,
)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: OpenAI itself accepts at most four stop strings; the rest are applied client side.
MAX_SERVER_STOPS = 4
#: Longest single SSE line accepted (a guard against a server that never sends a newline).
MAX_LINE_CHARS = 1_000_000
#: Largest non-streamed answer body accepted.
MAX_BODY_BYTES = 16 * 1024 * 1024


class _Retryable(Exception):
    """Internal: a failure that happened before any output and may be retried."""

    def __init__(self, error: LLMError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


class OpenAIBackend:
    """Chat completions from a remote OpenAI-compatible server.

    ``max_level`` defaults to ``"공개"``: material above 공개 must not leave the organisation.
    Set it higher only for a server inside the same security boundary (e.g. on-premises vLLM).
    ``params.timeout_s`` bounds each wait for data (first byte, next chunk);
    ``total_timeout_s`` bounds a whole call, so a server trickling keep-alives cannot hang it.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        max_level: str = "공개",
        connect_timeout: float = 5.0,
        total_timeout_s: float = 600.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        extra_body: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"언어 모델 서버 주소가 올바르지 않습니다: {base_url!r}. "
                "예: http://localhost:8000/v1 (DASAN_LLM_URL로도 지정할 수 있습니다)"
            )
        if not model:
            raise ConfigError(
                "언어 모델 이름이 비어 있습니다. 서버의 /v1/models가 알려주는 모델 이름을 지정하세요 "
                "(DASAN_LLM_MODEL)."
            )
        if retries < 0 or connect_timeout <= 0 or total_timeout_s <= 0 or backoff < 0:
            raise ConfigError("retries와 backoff는 0 이상, connect_timeout과 total_timeout_s는 양수여야 합니다.")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.model = model
        self.max_level = normalize_level(max_level)
        self.connect_timeout = connect_timeout
        self.total_timeout_s = total_timeout_s
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.extra_body = dict(extra_body or {})
        self.last_ttft_s: float | None = None
        headers = {"Accept": "application/json, text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(headers=headers, transport=transport)

    # -- LLMBackend API ---------------------------------------------------------------------
    def chat(self, messages: list[dict[str, str]], params: GenerationParams) -> str:
        payload = self._payload(messages, params, stream=False)
        t0 = time.monotonic()
        body = self._with_retries(lambda: self._post_once(payload, params), t0)
        text = _message_text(body, self.url)
        self.last_ttft_s = time.monotonic() - t0
        return cut_at_stop(text, params.stop)

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        payload = self._payload(messages, params, stream=True)  # validate before the first next()
        return filtered(self._stream_raw(payload, params), params.stop)

    def list_models(self, timeout_s: float = 10.0) -> list[str]:
        """Model ids the server offers (``GET /models``)."""
        url = self.base_url + "/models"
        try:
            resp = self._client.get(url, timeout=self._timeout(timeout_s))
        except httpx.HTTPError as e:
            raise self._transport_error(e, url) from e
        if resp.status_code != 200:
            raise self._status_error(resp, resp.content)
        try:
            return [str(m["id"]) for m in resp.json()["data"]]
        except (ValueError, KeyError, TypeError) as e:
            raise self._malformed(f"모델 목록 형식 오류: {e}") from e

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------------
    def _payload(self, messages: list[dict[str, str]], params: GenerationParams, *, stream: bool) -> dict:
        check_params(params)
        payload: dict[str, Any] = {
            **self.extra_body,
            "model": self.model,
            "messages": check_messages(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": stream,
        }
        stops = [s for s in params.stop if s][:MAX_SERVER_STOPS]
        if stops:
            payload["stop"] = stops
        return payload

    def _timeout(self, read_s: float) -> httpx.Timeout:
        return httpx.Timeout(read_s, connect=min(self.connect_timeout, read_s))

    def _post_once(self, payload: dict, params: GenerationParams) -> Any:
        try:
            with self._client.stream(
                "POST", self.url, json=payload, timeout=self._timeout(params.timeout_s)
            ) as resp:
                raw = _read_limited(resp, MAX_BODY_BYTES)
        except httpx.HTTPError as e:
            raise self._transport_error(e, self.url, params.timeout_s) from e
        if raw is None:
            raise self._malformed(f"응답이 {MAX_BODY_BYTES // (1024 * 1024)}MB를 넘습니다")
        if resp.status_code != 200:
            raise self._status_error(resp, raw)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise self._malformed(f"JSON이 아닌 응답: {raw[:200]!r}") from e

    def _with_retries(self, attempt_fn: Any, t0: float) -> Any:
        attempt = 0
        while True:
            try:
                return attempt_fn()
            except _Retryable as r:
                delay = self._delay(attempt, r.retry_after)
                if attempt >= self.retries or time.monotonic() - t0 + delay > self.total_timeout_s:
                    raise r.error from r.error.__cause__
                time.sleep(delay)
                attempt += 1

    def _stream_raw(self, payload: dict, params: GenerationParams) -> Iterator[str]:
        t0 = time.monotonic()
        deadline = t0 + self.total_timeout_s
        self.last_ttft_s = None
        attempt = 0
        while True:
            yielded = False
            try:
                with self._client.stream(
                    "POST", self.url, json=payload, timeout=self._timeout(params.timeout_s)
                ) as resp:
                    if resp.status_code != 200:
                        raise self._status_error(resp, _read_limited(resp, 64 * 1024) or b"")
                    for delta in self._sse_deltas(resp, deadline):
                        if not yielded:
                            self.last_ttft_s = time.monotonic() - t0
                            yielded = True
                        yield delta
                return
            except httpx.HTTPError as e:
                err = self._transport_error(e, self.url, params.timeout_s)
                if yielded or not isinstance(err, _Retryable):
                    raise (err.error if isinstance(err, _Retryable) else err) from e
                failure = err
            except _Retryable as r:
                if yielded:
                    raise r.error from r.error.__cause__
                failure = r
            delay = self._delay(attempt, failure.retry_after)
            if attempt >= self.retries or time.monotonic() + delay > deadline:
                raise failure.error from failure.error.__cause__
            time.sleep(delay)
            attempt += 1

    def _sse_deltas(self, resp: httpx.Response, deadline: float) -> Iterator[str]:
        """Text deltas from an SSE body (``data: {...}`` lines ending with ``data: [DONE]``)."""
        ctype = resp.headers.get("content-type", "")
        if "json" in ctype and "event-stream" not in ctype:
            # some servers ignore "stream": true and answer in one piece
            raw = _read_limited(resp, MAX_BODY_BYTES)
            if raw is None:
                raise self._malformed(f"응답이 {MAX_BODY_BYTES // (1024 * 1024)}MB를 넘습니다")
            try:
                body = json.loads(raw)
            except ValueError as e:
                raise self._malformed(f"JSON이 아닌 응답: {raw[:200]!r}") from e
            text = _message_text(body, self.url)
            if text:
                yield text
            return
        finished = False
        for line in _sse_lines(resp):
            if time.monotonic() > deadline:
                raise LLMError(
                    f"언어 모델 서버({self.url})의 응답이 전체 제한 시간({self.total_timeout_s:g}초)을 넘었습니다. "
                    "max_tokens를 줄이거나 total_timeout_s를 늘리세요."
                )
            if not line.startswith("data:"):
                continue  # blank separators, ": keep-alive" comments, event:/id:/retry: fields
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError as e:
                raise self._malformed(f"SSE 데이터가 JSON이 아닙니다: {data[:200]!r}") from e
            if not isinstance(chunk, dict):
                raise self._malformed(f"SSE 데이터가 객체가 아닙니다: {data[:200]!r}")
            if "error" in chunk:
                raise LLMError(
                    f"언어 모델 서버가 생성 도중 오류를 보냈습니다: {error_text(chunk)}. "
                    "서버 로그를 확인하고 다시 시도하세요."
                )
            choices = chunk.get("choices")
            if not isinstance(choices, list):
                raise self._malformed(f"SSE 청크에 choices가 없습니다: {data[:200]!r}")
            for choice in choices[:1]:  # usage-only chunks have no choices
                if not isinstance(choice, dict):
                    raise self._malformed(f"choices 항목 형식 오류: {data[:200]!r}")
                delta = choice.get("delta") or {}
                text = delta.get("content") if isinstance(delta, dict) else None
                if text is None:
                    text = choice.get("text")  # completions-style chunk
                if text is not None and not isinstance(text, str):
                    raise self._malformed(f"delta.content가 문자열이 아닙니다: {data[:200]!r}")
                if text:
                    yield text
                if choice.get("finish_reason"):
                    finished = True
        if not finished:
            raise _Retryable(
                LLMError(
                    f"언어 모델 서버({self.url})의 스트림이 [DONE] 없이 끊겼습니다. "
                    "서버 상태(메모리 부족, 재시작)를 확인하고 다시 시도하세요."
                )
            )

    # -- errors -------------------------------------------------------------------------------
    def _transport_error(self, e: httpx.HTTPError, url: str, read_s: float | None = None) -> Exception:
        """An :class:`LLMError` (caused by ``e``), wrapped in :class:`_Retryable` when worth retrying."""
        retry = False
        if isinstance(e, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
            retry = True
            err = LLMError(
                f"언어 모델 서버({url})에 연결할 수 없습니다: {e}. 서버가 실행 중인지, 주소와 포트가 맞는지 "
                "확인하세요 (DASAN_LLM_URL)."
            )
        elif isinstance(e, httpx.TimeoutException):
            wait = f"{read_s:g}초" if read_s else "제한 시간"
            err = LLMError(
                f"언어 모델 서버({url})가 {wait} 안에 응답하지 않았습니다(시간 초과). 서버 부하를 확인하거나 "
                "timeout_s를 늘리세요(max_tokens를 줄이는 것도 방법입니다)."
            )
        elif isinstance(e, httpx.RemoteProtocolError | httpx.ReadError):
            retry = True
            err = LLMError(f"언어 모델 서버({url})와의 연결이 끊겼습니다: {e}. 서버 상태를 확인하고 다시 시도하세요.")
        else:
            err = LLMError(f"언어 모델 서버({url}) 요청 실패: {e}. 주소와 네트워크 설정을 확인하세요.")
        err.__cause__ = e
        return _Retryable(err) if retry else err

    def _status_error(self, resp: httpx.Response, raw: bytes) -> Exception:
        code = resp.status_code
        detail = server_message(raw)
        if code in (401, 403):
            return LLMError(
                f"언어 모델 서버가 인증을 거부했습니다 (HTTP {code}): {detail}. API 키가 맞는지 확인하세요 "
                "(api_key 옵션 또는 DASAN_LLM_API_KEY)."
            )
        if code == 404:
            return LLMError(
                f"언어 모델 서버에서 찾을 수 없습니다 (HTTP 404): {detail}. 주소에 /v1이 포함되었는지, "
                f"모델 이름 {self.model!r}이 /v1/models 목록에 있는지 확인하세요."
            )
        if code in RETRY_STATUS:
            return _Retryable(
                LLMError(
                    f"언어 모델 서버가 오류를 돌려주었습니다 (HTTP {code}): {detail}. 서버가 과부하이거나 "
                    "재시작 중입니다. 잠시 후 다시 시도하세요."
                ),
                retry_after=retry_after(resp),
            )
        return LLMError(
            f"언어 모델 서버가 요청을 거부했습니다 (HTTP {code}): {detail}. 프롬프트 길이(컨텍스트 한도)와 "
            "생성 옵션을 확인하세요."
        )

    def _malformed(self, what: str) -> LLMError:
        return LLMError(
            f"언어 모델 서버({self.url})의 응답이 OpenAI 호환 형식이 아닙니다 ({what}). "
            "서버 종류와 주소(/v1 포함)를 확인하세요."
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        return backoff_delay(attempt, self.backoff, self.max_backoff, retry_after)


def _message_text(body: Any, url: str) -> str:
    try:
        choice = body["choices"][0]
        msg = choice.get("message")
        text = msg.get("content") if isinstance(msg, dict) else choice.get("text")
    except (KeyError, IndexError, TypeError, AttributeError) as e:
        raise LLMError(
            f"언어 모델 서버({url})의 응답에 choices[0].message가 없습니다 ({e!r}). "
            "OpenAI 호환 서버인지, 주소(/v1 포함)가 맞는지 확인하세요."
        ) from e
    if text is None:
        return ""
    if not isinstance(text, str):
        raise LLMError(f"언어 모델 서버({url})의 응답 내용이 문자열이 아닙니다. 서버 종류를 확인하세요.")
    return text


def _read_limited(resp: httpx.Response, limit: int) -> bytes | None:
    """The response body, or None when it is longer than ``limit`` bytes."""
    buf = bytearray()
    for part in resp.iter_bytes():
        buf += part
        if len(buf) > limit:
            return None
    return bytes(buf)


def _sse_lines(resp: httpx.Response) -> Iterator[str]:
    """Lines of an event stream (``\n``, ``\r\n`` or ``\r`` endings), each at most MAX_LINE_CHARS."""
    buf = ""
    for part in resp.iter_text():
        buf += part
        while True:
            i = min((j for j in (buf.find("\n"), buf.find("\r")) if j >= 0), default=-1)
            if i < 0 or (buf[i] == "\r" and i == len(buf) - 1):
                break  # no line end yet, or a lone \r that may be the start of \r\n
            yield buf[:i]
            buf = buf[i + 2 :] if buf.startswith("\r\n", i) else buf[i + 1 :]
        if len(buf) > MAX_LINE_CHARS:
            raise LLMError(
                "언어 모델 서버가 줄바꿈 없이 너무 긴 데이터를 보냈습니다. OpenAI 호환 스트리밍 서버인지 확인하세요."
            )
    if buf:
        yield buf
