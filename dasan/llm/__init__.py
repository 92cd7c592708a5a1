"""Language-model backends behind one interface, chosen by configuration.

>>> llm = get_backend("llama-cpp")                          # bundled Gemma 3 270M, offline
>>> llm = get_backend("llama-cpp", model_path="~/models/qwen2.5-3b-instruct-q4_k_m.gguf")
>>> llm = get_backend("openai", base_url="http://localhost:8000/v1", model="Qwen/Qwen2.5-7B-Instruct")
>>> llm.chat([{"role": "user", "content": "철도안전법의 목적은?"}], GenerationParams(max_tokens=64))
>>> for delta in llm.stream(messages, GenerationParams()): ...

Names: ``llama-cpp`` (default; :class:`~dasan.llm.llamacpp.LlamaCppBackend`) and ``openai``
(:class:`~dasan.llm.openai.OpenAIBackend`, any OpenAI-compatible server). Without a name,
``DASAN_LLM`` picks one. Options not given are read from the environment:
``DASAN_GGUF`` (llama-cpp ``model_path``), ``DASAN_LLM_N_CTX`` / ``DASAN_LLM_THREADS``
(llama-cpp ``n_ctx`` / ``n_threads``),
``DASAN_LLM_URL`` / ``DASAN_LLM_MODEL`` / ``DASAN_LLM_API_KEY`` (openai ``base_url`` / ``model`` /
``api_key``) and ``DASAN_LLM_MAX_LEVEL`` (``max_level`` of either).
"""

from __future__ import annotations

import inspect
from typing import Any

from dasan.errors import ConfigError
from dasan.llm.base import LEVELS, GenerationParams, LLMBackend, level_allows, normalize_level

NAMES = ("llama-cpp", "openai")
DEFAULT = "llama-cpp"
_ALIASES = {"llama-cpp": "llama-cpp", "llamacpp": "llama-cpp", "llama_cpp": "llama-cpp", "openai": "openai"}

__all__ = [
    "DEFAULT",
    "LEVELS",
    "NAMES",
    "GenerationParams",
    "LLMBackend",
    "get_backend",
    "level_allows",
    "normalize_level",
]


def get_backend(name: str | None = None, **opts: Any) -> LLMBackend:
    """Build the backend called ``name`` with options ``opts`` (see the module docs)."""
    from dasan import settings

    raw = (name or settings.get("DASAN_LLM") or DEFAULT).strip().lower()
    key = _ALIASES.get(raw)
    if settings.get("DASAN_LLM_MAX_LEVEL"):
        opts.setdefault("max_level", settings.get("DASAN_LLM_MAX_LEVEL"))
    if key == "llama-cpp":
        from dasan.llm.llamacpp import LlamaCppBackend

        if settings.get("DASAN_GGUF"):
            opts.setdefault("model_path", str(settings.get("DASAN_GGUF")))
        for env, opt in (("DASAN_LLM_N_CTX", "n_ctx"), ("DASAN_LLM_THREADS", "n_threads")):
            value = settings.get(env)
            if value and opt not in opts:
                opts[opt] = int(value)
        return _build(LlamaCppBackend, opts)
    if key == "openai":
        from dasan.llm.openai import OpenAIBackend

        opts.setdefault("base_url", settings.get("DASAN_LLM_URL"))
        opts.setdefault("model", settings.get("DASAN_LLM_MODEL"))
        if settings.get("DASAN_LLM_API_KEY"):
            opts.setdefault("api_key", settings.get("DASAN_LLM_API_KEY"))
        return _build(OpenAIBackend, opts)
    raise ConfigError(f"알 수 없는 언어 모델 백엔드입니다: {name or raw!r}. {', '.join(NAMES)} 중 하나를 지정하세요.")


def _build(cls: type, opts: dict[str, Any]) -> Any:
    try:
        inspect.signature(cls).bind(**opts)
    except TypeError as e:
        raise ConfigError(f"{cls.__name__}에 맞지 않는 언어 모델 설정입니다: {e}. 옵션 이름을 확인하세요.") from e
    return cls(**opts)
