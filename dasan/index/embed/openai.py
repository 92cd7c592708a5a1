"""Client for an OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

Works with text-embeddings-inference (TEI), vLLM, Ollama, LiteLLM and OpenAI itself.
``base_url`` includes the API prefix, as in the OpenAI SDK: ``http://localhost:8080/v1``.
Texts are sent in batches of ``batch_size``; timeouts, connection errors, 429 and 5xx answers
are retried with exponential backoff (honouring ``Retry-After``), other 4xx answers are not.
Returned vectors are re-normalised to unit length (not every server normalises). Models that
need prefixes (e5: ``query: `` / ``passage: ``) get them through ``query_prefix`` /
``passage_prefix``.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import numpy as np

from dasan.errors import EmbeddingError
from dasan.httpretry import backoff_delay, retry_after, server_message
from dasan.index.embed.base import clean_text, empty, l2_normalize

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class EmbeddingEndpointError(EmbeddingError):
    """The embedding server answered with an error or could not be reached."""

    code = "embedding_endpoint_error"

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after: float | None = None


class EmbeddingTimeoutError(EmbeddingEndpointError):
    code = "embedding_timeout"


class OpenAIEmbedder:
    """Embeddings from a remote OpenAI-compatible server.

    ``dim`` may be given; otherwise it is learnt from the first answer (reading ``dim``
    before any call sends one short probe request).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        dim: int | None = None,
        name: str | None = None,
        batch_size: int = 64,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        query_prefix: str = "",
        passage_prefix: str = "",
        max_chars: int = 20_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise EmbeddingError(
                f"임베딩 서버 주소가 올바르지 않습니다: {base_url!r}. 예: http://localhost:8080/v1"
            )
        if not model:
            raise EmbeddingError("임베딩 모델 이름이 비어 있습니다. 서버가 제공하는 모델 이름을 지정하세요.")
        if batch_size < 1 or retries < 0 or timeout <= 0 or max_chars < 1:
            raise EmbeddingError("batch_size, max_chars와 timeout은 양수, retries는 0 이상이어야 합니다.")
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.name = name or model
        self._dim = dim
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.prefix = {"query": query_prefix, "passage": passage_prefix}
        self.max_chars = max_chars
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    # -- Embedder API -----------------------------------------------------------------------
    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._post(["dimension probe"]).shape[1])
        return self._dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------
    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not a single string")
        if not texts:
            return empty(self.dim)  # may probe the server once to learn the dimension
        pre = self.prefix[kind]
        # servers reject empty strings; a single space embeds as "nothing"
        inputs = [(pre + clean_text(t)[: self.max_chars]) or " " for t in texts]
        parts = [self._post(inputs[i : i + self.batch_size]) for i in range(0, len(inputs), self.batch_size)]
        return np.concatenate(parts, axis=0)

    def _post(self, batch: list[str]) -> np.ndarray:
        payload = {"model": self.model, "input": batch, "encoding_format": "float"}
        attempt = 0
        while True:
            try:
                resp = self._client.post(self.url, json=payload)
            except httpx.TimeoutException as e:
                err: EmbeddingEndpointError = EmbeddingTimeoutError(
                    f"임베딩 서버({self.url})가 제한 시간 안에 응답하지 않았습니다. 서버 상태를 확인하거나 "
                    "timeout을 늘리세요.",
                    retryable=True,
                )
                err.__cause__ = e
            except httpx.HTTPError as e:
                err = EmbeddingEndpointError(
                    f"임베딩 서버({self.url})에 연결할 수 없습니다: {e}. 서버가 실행 중인지, 주소가 맞는지 확인하세요.",
                    retryable=True,
                )
                err.__cause__ = e
            else:
                if resp.status_code == 200:
                    return self._parse(resp, len(batch))
                err = EmbeddingEndpointError(
                    f"임베딩 서버가 오류를 돌려주었습니다 (HTTP {resp.status_code}): {server_message(resp.content)}. "
                    + (
                        "잠시 후 다시 시도하세요."
                        if resp.status_code in RETRY_STATUS
                        else "모델 이름과 API 키를 확인하세요."
                    ),
                    status=resp.status_code,
                    retryable=resp.status_code in RETRY_STATUS,
                )
                err.retry_after = retry_after(resp)
            if not err.retryable or attempt >= self.retries:
                raise err
            time.sleep(self._delay(attempt, err))
            attempt += 1

    def _delay(self, attempt: int, err: EmbeddingEndpointError) -> float:
        return backoff_delay(attempt, self.backoff, self.max_backoff, err.retry_after)

    def _parse(self, resp: httpx.Response, n: int) -> np.ndarray:
        try:
            body = resp.json()
            data = sorted(body["data"], key=lambda d: d.get("index", 0))
            rows = [_vector(d["embedding"]) for d in data]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise EmbeddingEndpointError(
                f"임베딩 서버의 응답 형식이 OpenAI 호환 형식이 아닙니다 ({e}). 서버 종류와 주소(/v1 포함)를 확인하세요.",
                status=resp.status_code,
            ) from e
        if len(rows) != n:
            raise EmbeddingEndpointError(
                f"임베딩 서버가 {n}개 입력에 {len(rows)}개 벡터를 돌려주었습니다. 서버 설정(최대 배치 크기)을 확인하세요.",
                status=resp.status_code,
            )
        dims = {len(r) for r in rows}
        if len(dims) != 1 or 0 in dims:
            raise EmbeddingEndpointError(
                "임베딩 서버가 길이가 일정하지 않은 벡터를 돌려주었습니다.", status=resp.status_code
            )
        out = np.asarray(rows, dtype=np.float32)
        if not np.isfinite(out).all():
            raise EmbeddingEndpointError(
                "임베딩 서버가 NaN/무한대 값을 돌려주었습니다.", status=resp.status_code
            )
        if self._dim is None:
            self._dim = out.shape[1]
        elif out.shape[1] != self._dim:
            raise EmbeddingEndpointError(
                f"임베딩 차원이 설정({self._dim})과 다릅니다 (서버: {out.shape[1]}). 모델 설정을 확인하세요.",
                status=resp.status_code,
            )
        return l2_normalize(out)


def _vector(v: Any) -> list[float] | np.ndarray:
    if isinstance(v, str):  # encoding_format=base64 answered anyway
        return np.frombuffer(base64.b64decode(v), dtype="<f4")
    if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise TypeError("embedding is not a list of numbers")
    return v
