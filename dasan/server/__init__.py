"""HTTP server: OpenAI-compatible API, Dasan API and the web UI (``dasan serve``).

:func:`dasan.server.app.create_app` builds the FastAPI application; see ``/openapi.json``.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`dasan.server.app.create_app` (imported lazily: FastAPI is loaded on first use)."""
    from dasan.server.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["create_app"]
