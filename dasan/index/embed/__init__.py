"""Dense text embedders behind one interface, chosen by configuration.

>>> emb = get_embedder("e5")                      # multilingual-e5-small, offline
>>> emb = get_embedder("openai", base_url="http://localhost:8080/v1", model="bge-m3")
>>> emb = get_embedder("e5", cache_dir="~/.local/share/dasan/embed-cache")
>>> v = emb.embed_passages(["철도안전법은 ..."])   # float32 (1, emb.dim), unit rows

Names: ``e5`` (default; :class:`~dasan.index.embed.e5.E5Embedder`), ``use``
(:class:`~dasan.index.embed.use.USEEmbedder`), ``openai``
(:class:`~dasan.index.embed.openai.OpenAIEmbedder`). Without a name, ``DASAN_EMBEDDER`` picks
one; the ``openai`` client reads ``DASAN_EMBED_URL``, ``DASAN_EMBED_MODEL`` and
``DASAN_EMBED_API_KEY`` for options not given. ``cache_dir`` wraps the embedder in a
persistent :class:`~dasan.index.embed.cache.CachedEmbedder`.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError
from dasan.index.embed.base import Embedder

NAMES = ("e5", "use", "openai")
DEFAULT = "e5"

__all__ = ["DEFAULT", "NAMES", "Embedder", "get_embedder"]


def get_embedder(
    name: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    cache_max_entries: int = 200_000,
    **opts: Any,
) -> Embedder:
    """Build the embedder called ``name`` with backend options ``opts``."""
    from dasan import settings

    key = (name or settings.get("DASAN_EMBEDDER") or DEFAULT).strip().lower()
    emb: Embedder
    if key == "e5":
        from dasan.index.embed.e5 import E5Embedder

        emb = _build(E5Embedder, opts)
    elif key == "use":
        from dasan.index.embed.use import USEEmbedder

        emb = _build(USEEmbedder, opts)
    elif key == "openai":
        from dasan.index.embed.openai import OpenAIEmbedder

        opts.setdefault("base_url", settings.get("DASAN_EMBED_URL"))
        opts.setdefault("model", settings.get("DASAN_EMBED_MODEL"))
        if settings.get("DASAN_EMBED_API_KEY"):
            opts.setdefault("api_key", settings.get("DASAN_EMBED_API_KEY"))
        emb = _build(OpenAIEmbedder, opts)
    else:
        raise ConfigError(f"알 수 없는 임베딩 모델입니다: {name!r}. {', '.join(NAMES)} 중 하나를 지정하세요.")
    if cache_dir is not None:
        from dasan.index.embed.cache import CachedEmbedder, EmbeddingCache

        cache = EmbeddingCache(Path(cache_dir).expanduser(), max_entries=cache_max_entries)
        emb = CachedEmbedder(emb, cache)
    return emb


def _build(cls: type, opts: dict[str, Any]) -> Any:
    try:
        inspect.signature(cls).bind(**opts)
    except TypeError as e:
        raise ConfigError(
            f"{cls.__name__}에 맞지 않는 임베딩 설정입니다: {e}. 옵션 이름을 확인하세요."
        ) from e
    return cls(**opts)
