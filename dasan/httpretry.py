"""Shared pieces of the OpenAI-compatible HTTP clients (embeddings and chat): retry timing and
error text from servers that answer in OpenAI's ``{"error": {"message": …}}`` shape."""

from __future__ import annotations

import json
import random

import httpx


def retry_after(resp: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (None when absent or an HTTP date)."""
    value = resp.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date; fall back to exponential backoff


def backoff_delay(attempt: int, base: float, cap: float, server_hint: float | None = None) -> float:
    """Wait before retry ``attempt`` (0-based): the server's hint, else exponential with jitter."""
    if server_hint is not None:
        return min(server_hint, cap)
    return min(base * (2**attempt) * (1 + 0.25 * random.random()), cap)


def error_text(body: object) -> str:
    """The message of an OpenAI-style error body (or the body itself), at most 300 characters."""
    err = body.get("error", body) if isinstance(body, dict) else body
    msg = err.get("message", err) if isinstance(err, dict) else err
    return str(msg)[:300]


def server_message(raw: bytes) -> str:
    """Readable error text from a response body, whatever its shape."""
    try:
        return error_text(json.loads(raw))
    except ValueError:
        return raw[:300].decode("utf-8", "replace").strip() or "(본문 없음)"
