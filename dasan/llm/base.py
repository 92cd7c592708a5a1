"""The language-model backend interface shared by every implementation.

A backend turns OpenAI-style chat messages into text, either at once (:meth:`LLMBackend.chat`)
or as a stream of text deltas (:meth:`LLMBackend.stream`). Each backend states the highest
classification level (N2SF: 공개 < 민감 < 기밀) it is cleared to see in ``max_level``; the
answer composer must not send material above that level to it (see :func:`level_allows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from dasan.errors import ConfigError, LLMError

#: Classification levels from lowest to highest.
LEVELS: tuple[str, ...] = ("공개", "민감", "기밀")
_LEVEL_ALIASES = {
    "공개": "공개",
    "o": "공개",
    "open": "공개",
    "public": "공개",
    "민감": "민감",
    "s": "민감",
    "sensitive": "민감",
    "기밀": "기밀",
    "c": "기밀",
    "classified": "기밀",
    "confidential": "기밀",
}
ROLES = frozenset({"system", "user", "assistant"})


@dataclass
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)
    timeout_s: float = 60.0


@runtime_checkable
class LLMBackend(Protocol):
    name: str  # "llama-cpp", "openai"
    model: str  # model id / gguf file name
    max_level: str  # highest classification level this backend is cleared for

    def chat(self, messages: list[dict[str, str]], params: GenerationParams) -> str: ...

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]: ...


def normalize_level(level: str) -> str:
    """``"공개"|"민감"|"기밀"`` (also N2SF letters O/S/C and English names) → the Korean name."""
    key = str(level).strip().lower()
    if key not in _LEVEL_ALIASES:
        raise ConfigError(
            f"알 수 없는 보안 등급입니다: {level!r}. '공개', '민감', '기밀' 중 하나를 지정하세요."
        )
    return _LEVEL_ALIASES[key]


def level_allows(max_level: str, level: str) -> bool:
    """True when material graded ``level`` may be sent to a backend cleared up to ``max_level``."""
    return LEVELS.index(normalize_level(level)) <= LEVELS.index(normalize_level(max_level))


def check_messages(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Validate chat messages; returns plain ``{"role", "content"}`` copies."""
    if not isinstance(messages, list) or not messages:
        raise LLMError("메시지 목록이 비어 있습니다. 최소 한 개의 user 메시지를 넘기세요.")
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise LLMError(f"{i}번째 메시지가 dict가 아닙니다. {{'role': ..., 'content': ...}} 형식으로 넘기세요.")
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise LLMError(f"{i}번째 메시지의 role이 올바르지 않습니다: {role!r}. system/user/assistant 중 하나여야 합니다.")
        if not isinstance(content, str):
            raise LLMError(f"{i}번째 메시지의 content가 문자열이 아닙니다.")
        out.append({"role": role, "content": content})
    return out


def check_params(params: GenerationParams) -> None:
    if params.max_tokens < 1:
        raise ConfigError("max_tokens는 1 이상이어야 합니다.")
    if not 0.0 <= params.temperature <= 2.0:
        raise ConfigError("temperature는 0 이상 2 이하여야 합니다.")
    if params.timeout_s <= 0:
        raise ConfigError("timeout_s는 양수여야 합니다.")
    if any(not isinstance(s, str) for s in params.stop):
        raise ConfigError("stop에는 문자열만 넣을 수 있습니다.")


def cut_at_stop(text: str, stops: Iterable[str]) -> str:
    """``text`` up to (not including) the earliest occurrence of any stop string."""
    cut = len(text)
    for s in stops:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut]


class StopFilter:
    """Applies stop strings to a stream of deltas, client side.

    Text that could be the beginning of a stop string is held back until it is clear it is not,
    so nothing past a stop string is ever emitted. ``strip`` drops whitespace at both ends of
    the whole output (useful for a transcript, where the answer follows ``"답변:"`` and ends
    before a blank line); trailing whitespace is then held back until more text follows.
    After :attr:`stopped` turns true, further input is ignored.
    """

    def __init__(self, stops: Iterable[str], *, strip: bool = False) -> None:
        self.stops = [s for s in stops if s]
        self._hold = max((len(s) for s in self.stops), default=1) - 1
        self._buf = ""
        self._strip = strip
        self._lstrip = strip
        self.stopped = False

    def feed(self, delta: str) -> str:
        if self.stopped or not delta:
            return ""
        self._buf += delta
        if self._lstrip:
            self._buf = self._buf.lstrip()
            if not self._buf:
                return ""
            self._lstrip = False
        cut = cut_at_stop(self._buf, self.stops)
        if len(cut) < len(self._buf):
            self.stopped = True
            self._buf = ""
            return cut.rstrip() if self._strip else cut
        keep = self._held_suffix()
        if self._strip:
            keep = len(self._buf) - len(self._buf[: len(self._buf) - keep].rstrip())
        out, self._buf = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep :]
        return out

    def flush(self) -> str:
        out, self._buf = ("" if self.stopped else self._buf), ""
        return out.rstrip() if self._strip else out

    def _held_suffix(self) -> int:
        """Length of the longest suffix of the buffer that is a proper prefix of a stop string."""
        for n in range(min(self._hold, len(self._buf)), 0, -1):
            tail = self._buf[-n:]
            if any(s.startswith(tail) for s in self.stops):
                return n
        return 0


def filtered(deltas: Iterable[str], stops: Iterable[str], *, strip: bool = False) -> Iterator[str]:
    """Run ``deltas`` through a :class:`StopFilter`, yielding only non-empty pieces."""
    f = StopFilter(stops, strip=strip)
    try:
        for d in deltas:
            out = f.feed(d)
            if out:
                yield out
            if f.stopped:
                return
        tail = f.flush()
        if tail:
            yield tail
    finally:
        close = getattr(deltas, "close", None)
        if close is not None:
            close()  # stop the producer (free the connection / the model lock) at once
