"""Every option of Dasan in one place: its name, type, default and where its value came from.

Values are read from, in order: the environment (``DASAN_*``), a ``dasan.toml`` file, the
default. The file is ``$DASAN_CONFIG`` if set, else ``dasan.toml`` in the data directory
(``DASAN_HOME`` or the user data folder). Keys in the file are the setting names without the
``DASAN_`` prefix, lower case (``llm_url = "http://vllm:8000/v1"``), at the top level.

Modules ask :func:`get` when they need a value; the resolved table is cached and rebuilt only
when a ``DASAN_*`` variable or the file changes, so a value is parsed once per configuration.
``dasan config show`` prints every setting with its value (secrets masked) and its source, and
lists ``DASAN_*`` variables Dasan does not know (a typo silently ignored is how a site ends up
running with defaults it did not choose).
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError

MB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    name: str  # environment variable
    kind: type  # str, int, Path
    default: Any  # a value or a callable of the other resolved values
    doc: str
    secret: bool = False

    @property
    def key(self) -> str:
        return self.name.removeprefix("DASAN_").lower()


def _user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("dasan"))


SETTINGS: tuple[Setting, ...] = (
    # where things are
    Setting("DASAN_HOME", Path, lambda v: _user_data_dir(), "data directory (store, indexes, models, audit log)"),
    Setting("DASAN_CONFIG", Path, None, "settings file (default: dasan.toml in the data directory)"),
    Setting("DASAN_SHARED", Path, None, "shared test material (default: ../shared beside the checkout)"),
    Setting("DASAN_MODEL_DIR", Path, None, "folder of GGUF models for the embedded llama.cpp backend"),
    # database (issue 19): empty = the embedded SQLite store in the data directory
    Setting("DASAN_DATABASE_URL", str, "", "PostgreSQL for store, search, jobs and audit (postgresql://…)",
            secret=True),
    Setting("DASAN_DATABASE_POOL_MAX", int, 10, "most pooled PostgreSQL connections per store a process opens"),
    Setting("DASAN_DATABASE_POOL_TIMEOUT", int, 30, "seconds to wait for a pooled connection before failing"),
    Setting("DASAN_JOBS", str, "inprocess", "who runs upload jobs: inprocess (the server itself) or worker "
            "(servers only enqueue; `dasan worker` processes run them; needs DASAN_DATABASE_URL)"),
    # search
    Setting("DASAN_EMBEDDER", str, "e5", "dense embedder: e5, use, openai, none (lexical only)"),
    Setting("DASAN_EMBED_URL", str, "", "OpenAI-compatible embeddings server (DASAN_EMBEDDER=openai)"),
    Setting("DASAN_EMBED_MODEL", str, "", "embedding model name on that server"),
    Setting("DASAN_EMBED_API_KEY", str, "", "API key of that server", secret=True),
    Setting("DASAN_HNSW_THRESHOLD", int, 100_000, "chunks above which the dense index uses an HNSW graph"),
    Setting("DASAN_LEGAL_TERMS", Path, None, "a site's own everyday→legal term list (TSV), added to the default"),
    # language models
    Setting("DASAN_LLM", str, "", "default answer backend (extractive when empty)"),
    Setting("DASAN_LLM_URL", str, "", "OpenAI-compatible model server (vLLM, …) for --backend openai"),
    Setting("DASAN_LLM_MODEL", str, "", "model name on that server"),
    Setting("DASAN_LLM_API_KEY", str, "", "API key of that server", secret=True),
    Setting("DASAN_LLM_MAX_LEVEL", str, "", "highest classification a model backend may be shown"),
    Setting("DASAN_GGUF", Path, None, "GGUF file for the embedded llama.cpp backend (default: bundled Gemma 3)"),
    Setting("DASAN_LLM_THREADS", int, 0, "llama.cpp threads (0: the library's default)"),
    Setting("DASAN_LLM_N_CTX", int, 0, "llama.cpp context length (0: the backend's default)"),
    # limits
    Setting("DASAN_MAX_FILE_BYTES", int, 100 * MB, "largest file a reader accepts (refused, not truncated)"),
    Setting("DASAN_MAX_UNZIPPED_BYTES", int, 512 * MB, "largest uncompressed size of a ZIP-based document"),
    Setting("DASAN_MAX_STREAM_BYTES", int, 256 * MB, "largest decompressed HWP stream"),
    Setting("DASAN_MAX_JSON_BYTES", int, 4 * MB, "largest JSON request body the server accepts"),
    Setting("DASAN_MAX_UPLOAD_BYTES", int, lambda v: max(v["DASAN_MAX_FILE_BYTES"] * 4, 1 << 30),
            "largest upload request the server accepts"),
    # security and audit
    Setting("DASAN_AUDIT_KEY", str, "", "HMAC key of the audit chain (default: a key file in the data directory)",
            secret=True),
    Setting("DASAN_AUDIT_SYNC", str, "full", "audit durability: full (fsync per entry) or normal"),
    Setting("DASAN_USER", str, "", "act as this registered user on the command line (same as --as)"),
    Setting("DASAN_ACTOR", str, "", "name recorded as the actor of command-line audit entries"),
    Setting("DASAN_API_KEY", str, "", "API key for `dasan bench load`", secret=True),
    Setting("DASAN_CHURN_KEY", str, "", "API key that uploads and deletes in `dasan bench load --churn`", secret=True),
    # press desk
    Setting("DASAN_STYLE_TERMS", Path, None, "a site's own 공공언어 style terms (TSV) for `dasan press check`"),
)
BY_NAME = {s.name: s for s in SETTINGS}
# DASAN_* variables read by tools around Dasan rather than by Dasan's settings (not "unknown")
_KNOWN_ELSEWHERE = frozenset({"DASAN_CHROMIUM"})  # the browser tests' Chromium (tests/e2e)


@dataclass(frozen=True)
class Value:
    setting: Setting
    value: Any
    source: str  # "env", "file <path>", "default"

    def shown(self) -> str:
        if self.value is None or self.value == "":
            return "(없음)"
        if self.setting.secret:
            text = str(self.value)
            return "****" if len(text) <= 8 else text[:4] + "****"
        return str(self.value)


class Resolved:
    def __init__(self, values: dict[str, Value], file: Path | None, unknown: list[str]) -> None:
        self.values = values
        self.file = file
        self.unknown = unknown

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value


def _convert(setting: Setting, raw: Any, where: str) -> Any:
    if raw is None:
        return None
    try:
        if setting.kind is int:
            return int(str(raw).strip().replace("_", ""))
        if setting.kind is Path:
            text = str(raw).strip()
            return Path(text).expanduser() if text else None
        return str(raw)
    except ValueError as e:
        raise ConfigError(f"{setting.name} 값 '{raw}'을(를) 읽을 수 없습니다 ({where}): 정수를 주세요.") from e


def file_path(env: dict[str, str] | None = None) -> Path:
    """Where the settings file is looked for."""
    env = dict(os.environ) if env is None else env
    if env.get("DASAN_CONFIG"):
        return Path(env["DASAN_CONFIG"]).expanduser()
    home = Path(env["DASAN_HOME"]).expanduser() if env.get("DASAN_HOME") else _user_data_dir()
    return home / "dasan.toml"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"설정 파일을 읽을 수 없습니다: {e}. TOML 문법을 확인하세요.", path=str(path)) from e
    known = {s.key for s in SETTINGS}
    bad = sorted(k for k in data if k not in known)
    if bad:
        raise ConfigError(f"설정 파일에 모르는 항목이 있습니다: {', '.join(bad)}. `dasan config show`로 이름을 확인하세요.",
                          path=str(path))
    return data


def resolve(env: dict[str, str] | None = None) -> Resolved:
    env = dict(os.environ if env is None else env)
    path = file_path(env)
    data = _read_file(path)
    values: dict[str, Value] = {}
    plain: dict[str, Any] = {}
    for s in SETTINGS:
        if env.get(s.name, "") != "":
            v = Value(s, _convert(s, env[s.name], "환경 변수"), "env")
        elif s.key in data:
            v = Value(s, _convert(s, data[s.key], str(path)), f"file {path}")
        else:
            default = s.default(plain) if callable(s.default) else s.default
            v = Value(s, default, "default")
        values[s.name] = v
        plain[s.name] = v.value
    unknown = sorted(k for k in env if k.startswith("DASAN_") and k not in BY_NAME and k not in _KNOWN_ELSEWHERE)
    return Resolved(values, path if data else None, unknown)


_lock = threading.Lock()
_cache: tuple[tuple, Resolved] | None = None


def _stamp() -> tuple:
    items = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("DASAN_")))
    try:
        st = file_path(dict(items)).stat()
        file = (st.st_mtime_ns, st.st_size)
    except OSError:
        file = None
    return items, file


def current() -> Resolved:
    """The resolved settings (rebuilt only when a DASAN_* variable or the settings file changed)."""
    global _cache
    stamp = _stamp()
    with _lock:
        if _cache is None or _cache[0] != stamp:
            _cache = (stamp, resolve())
        return _cache[1]


def get(name: str) -> Any:
    """The value of one setting, e.g. ``get("DASAN_LLM_URL")``."""
    if name not in BY_NAME:
        raise KeyError(name)
    return current()[name]


def lazy(name: str) -> Callable[[], Any]:
    return lambda: get(name)


def site_file(name: str, what: str) -> tuple[Path, str] | None:
    """A site's own list named by setting ``name`` (a TSV such as DASAN_LEGAL_TERMS): its path and
    text, or None when the setting is empty. ``what`` names the list in the error (Korean)."""
    value = get(name)
    if not value or not str(value).strip():
        return None
    path = Path(str(value)).expanduser()
    try:
        return path, path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"{what} {path}을(를) 읽을 수 없습니다 ({e.strerror}): {name}를 확인하세요.") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} {path}이(가) UTF-8 문서가 아닙니다: {name}를 확인하세요.") from e
