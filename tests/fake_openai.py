"""A small local fake of an OpenAI-compatible server, for tests.

Serves ``POST /v1/chat/completions`` (streaming SSE with chunked transfer encoding, and
non-streaming JSON) and ``GET /v1/models`` on 127.0.0.1 with a free port. Its answer is a
deterministic function of the last user message, cut into ``chunk_chars``-character deltas
(each delta counts as one "token" for ``max_tokens``). Stop strings are honoured server side
unless ``ignore_stop`` is set.

Faults: ``faults`` is a queue consumed one entry per chat request (then ``default_fault``
applies). Entries: ``"ok"``, ``"500"``/``"503"``/``"429"``/``"401"``/``"404"``/``"400"`` (that
status with an OpenAI-style error body), ``"hang"`` (send nothing for ``hang_s`` seconds),
``"hang_after:N"`` (stream N deltas, then go silent), ``"malformed"`` (a broken JSON chunk /
body), ``"drop_after:N"`` (stream N deltas, then cut the connection).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def default_reply(messages: list[dict[str, str]]) -> str:
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return f"답변입니다. 질문은 「{last}」였습니다. 근거: 제1조. 끝."


class FakeOpenAI:
    def __init__(
        self,
        *,
        model: str = "fake-model",
        api_key: str | None = None,
        reply: Callable[[list[dict[str, str]]], str] = default_reply,
        chunk_chars: int = 3,
        ignore_stop: bool = False,
        hang_s: float = 10.0,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.reply = reply
        self.chunk_chars = chunk_chars
        self.ignore_stop = ignore_stop
        self.hang_s = hang_s
        self.faults: list[str] = []
        self.default_fault = "ok"
        self.requests: list[dict[str, Any]] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def chat_requests(self) -> int:
        return sum(1 for r in self.requests if r.get("_path", "").endswith("/chat/completions"))

    def next_fault(self) -> str:
        with self._lock:
            return self.faults.pop(0) if self.faults else self.default_fault

    def answer(self, body: dict[str, Any]) -> tuple[list[str], str]:
        """The deltas to send and the finish reason, for a request body."""
        text = self.reply(body.get("messages", []))
        finish = "stop"
        stops = body.get("stop") or []
        if isinstance(stops, str):
            stops = [stops]
        if not self.ignore_stop:
            for s in stops:
                i = text.find(s)
                if i >= 0:
                    text = text[:i]
        n = self.chunk_chars
        deltas = [text[i : i + n] for i in range(0, len(text), n)]
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and len(deltas) > max_tokens:
            deltas, finish = deltas[:max_tokens], "length"
        return deltas, finish

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients hanging up early (timeouts, closed streams) are part of the tests, not errors
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers ------------------------------------------------------------------------------
    def _json(self, status: int, body: Any) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "fake_error", "code": status}})

    def _authorized(self) -> bool:
        if self.fake.api_key is None:
            return True
        return self.headers.get("Authorization") == f"Bearer {self.fake.api_key}"

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, obj: Any) -> None:
        payload = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
        self._chunk(f"data: {payload}\n\n".encode())

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self.fake.requests.append({"_path": self.path})
        if self.path.rstrip("/") != "/v1/models":
            self._error(404, f"no route {self.path}")
        elif not self._authorized():
            self._error(401, "Incorrect API key provided")
        else:
            self._json(200, {"object": "list", "data": [{"id": self.fake.model, "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._error(400, "request body is not JSON")
            return
        body["_path"] = self.path
        self.fake.requests.append(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        if not self._authorized():
            self._error(401, "Incorrect API key provided")
            return
        if body.get("model") != self.fake.model:
            self._error(404, f"The model `{body.get('model')}` does not exist")
            return
        fault = self.fake.next_fault()
        if fault.isdigit():
            if fault == "429":
                self.send_response(429)
                self.send_header("Retry-After", "0")
                raw = b'{"error": {"message": "rate limited"}}'
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            else:
                self._error(int(fault), f"fake failure {fault}")
            return
        if fault == "hang":
            self.fake.closing.wait(self.fake.hang_s)
            self.close_connection = True
            return
        deltas, finish = self.fake.answer(body)
        if body.get("stream"):
            self._stream(deltas, finish, fault)
        elif fault == "malformed":
            raw = b'{"choices": [{"mess'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        else:
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": self.fake.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(deltas)},
                            "finish_reason": finish,
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": len(deltas), "total_tokens": 1},
                },
            )

    def _stream(self, deltas: list[str], finish: str, fault: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cut = int(fault.split(":")[1]) if ":" in fault else None

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "model": self.fake.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        self._chunk(b": keep-alive\n\n")
        self._event(chunk({"role": "assistant", "content": ""}))
        for i, d in enumerate(deltas):
            if cut is not None and i == cut:
                if fault.startswith("hang_after"):
                    self.fake.closing.wait(self.fake.hang_s)
                self.close_connection = True  # no terminating chunk: the client sees a broken body
                return
            if fault == "malformed" and i == 1:
                self._chunk(b'data: {"choices": [{"delta": {"content": "broken\n\n')
                self._chunk(b"")
                return
            self._event(chunk({"content": d}))
        self._event(chunk({}, finish))
        self._event("[DONE]")
        self._chunk(b"")  # terminating zero-length chunk
