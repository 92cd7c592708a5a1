"""Versioned learned models under ``<data dir>/models``.

Each model is a folder ``models/<name>/`` with ``manifest.json`` (what it is, when and from which
records it was trained, its measured effect), ``ranker.json`` and the archive memory. Which model
search and answers use is ``models/selection.json`` (``{"current": name|null, "history": [...]}``),
changed by ``dasan models use`` and ``dasan models rollback``; a running server notices the change
at its next search. A model is written to a temporary folder and renamed into place, so a
half-written model is never listed or used.

Two kinds of model share the folder and the commands: retrieval rankers (any ``kind`` but
:data:`LM_KIND`, the ``current``/``history`` of ``selection.json`` as before) and language-model
adapters (``kind`` :data:`LM_KIND`, made by ``dasan train llm``), chosen under
``selection.json``'s ``"lm"`` key with its own history. ``use NAME`` changes the selection of
NAME's kind; ``rollback`` undoes the latest ``use`` (``"changes"`` records which kind it was), so
selection files written before adapters existed keep working unchanged."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError, NotFoundError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


LM_KIND = "lm-adapter"  # a LoRA adapter for the served language model (dasan.learn.llm)
RANKER = "ranker"


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def check_name(name: str) -> str:
    if not _NAME.match(name) or name in ("current", "none", "base"):
        raise ConfigError(f"모델 이름 '{name}'을(를) 쓸 수 없습니다: 영문·숫자·._- 64자 이내로 정하세요 "
                          "(current, none, base는 예약어).")
    return name


def default_name() -> str:
    return time.strftime("ranker-%Y%m%d-%H%M%S")


def _read_selection(data_dir: Path) -> dict[str, Any]:
    path = models_dir(data_dir) / "selection.json"
    if not path.exists():
        return {"current": None, "history": [], "lm": {"current": None, "history": []}, "changes": []}
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"모델 선택 파일을 읽을 수 없습니다({e}). `dasan models use 이름`으로 다시 정하세요.",
                          path=str(path)) from e
    lm = obj.get("lm") if isinstance(obj.get("lm"), dict) else {}
    return {"current": obj.get("current"), "history": list(obj.get("history") or []),
            "lm": {"current": lm.get("current"), "history": list(lm.get("history") or [])},
            "changes": [str(k) for k in obj.get("changes") or []]}


def _write_selection(data_dir: Path, sel: dict[str, Any]) -> None:
    d = models_dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".selection.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(sel, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, d / "selection.json")


def list_models(data_dir: Path) -> list[dict[str, Any]]:
    d = models_dir(data_dir)
    sel = _read_selection(data_dir)
    current = {sel["current"], sel["lm"]["current"]} - {None}
    out = []
    for sub in sorted(d.glob("*/manifest.json")) if d.exists() else []:
        try:
            m = json.loads(sub.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        m["current"] = m.get("name") in current
        out.append(m)
    return sorted(out, key=lambda m: m.get("created", ""))


def model_path(data_dir: Path, name: str) -> Path:
    path = models_dir(data_dir) / check_name(name)
    if not (path / "manifest.json").exists():
        known = ", ".join(m["name"] for m in list_models(data_dir)) or "없음"
        raise NotFoundError(f"모델 '{name}'이(가) 없습니다 (있는 모델: {known}). `dasan models list`로 확인하세요.")
    return path


def current_name(data_dir: Path) -> str | None:
    return _read_selection(data_dir)["current"]


def current_lm(data_dir: Path) -> str | None:
    """The language-model adapter chosen with ``dasan models use`` (None: the base model alone)."""
    return _read_selection(data_dir)["lm"]["current"]


def model_kind(data_dir: Path, name: str) -> str:
    """:data:`LM_KIND` for a language-model adapter, :data:`RANKER` for any other model."""
    try:
        kind = json.loads((model_path(data_dir, name) / "manifest.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"모델 '{name}'의 manifest.json을 읽을 수 없습니다({e}). 모델을 다시 학습하세요.") from e
    return LM_KIND if kind == LM_KIND else RANKER


def _slot(sel: dict[str, Any], kind: str) -> dict[str, Any]:
    return sel["lm"] if kind == LM_KIND else sel


def use(data_dir: Path, name: str | None, kind: str | None = None) -> dict[str, Any]:
    """Make ``name`` the model of its kind in use (None: no learned model of ``kind``, default the
    ranker); the previous one is kept for ``rollback``. Returns that kind's ``current`` and
    ``history`` (and ``kind``)."""
    if name is not None:
        kind = model_kind(data_dir, name)
    kind = kind or RANKER
    sel = _read_selection(data_dir)
    slot = _slot(sel, kind)
    if slot["current"] != name:
        slot["history"].append(slot["current"])
        slot["current"] = name
        sel["changes"].append(kind)
        _write_selection(data_dir, sel)
    return {"current": slot["current"], "history": list(slot["history"]), "kind": kind}


def rollback(data_dir: Path) -> dict[str, Any]:
    """Undo the latest ``use`` (of whichever kind)."""
    sel = _read_selection(data_dir)
    kind = sel["changes"].pop() if sel["changes"] else RANKER
    slot = _slot(sel, kind)
    if not slot["history"]:
        raise ConfigError("되돌릴 이전 모델 선택이 없습니다. `dasan models list`로 모델을 보고 `dasan models use 이름`을 쓰세요.")
    prev = slot["history"].pop()
    if prev is not None:
        model_path(data_dir, prev)
    slot["current"] = prev
    _write_selection(data_dir, sel)
    return {"current": prev, "history": list(slot["history"]), "kind": kind}


def staging_dir(data_dir: Path, name: str) -> Path:
    check_name(name)
    final = models_dir(data_dir) / name
    if final.exists():
        raise ConfigError(f"모델 '{name}'이(가) 이미 있습니다. 다른 --name을 주세요.")
    tmp = models_dir(data_dir) / f".tmp-{name}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def publish(data_dir: Path, tmp: Path, name: str) -> Path:
    final = models_dir(data_dir) / name
    os.replace(tmp, final)
    return final


class ModelSelection:
    """The learned ranker a retriever should use now, reloaded when the selection changes
    (checked at most once a second)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None
        self._ranker = None

    def get(self):
        now = time.monotonic()
        if now - self._checked < 1.0:
            return self._ranker
        with self._lock:
            self._checked = now
            path = models_dir(self.data_dir) / "selection.json"
            try:
                st = path.stat()
                stamp = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp == self._stamp:
                return self._ranker
            name = current_name(self.data_dir) if stamp else None
            self._ranker = load_ranker(self.data_dir, name) if name else None
            self._stamp = stamp
            return self._ranker


def load_ranker(data_dir: Path, name: str):
    from dasan.learn.ranker import LearnedRanker

    if model_kind(data_dir, name) == LM_KIND:
        raise ConfigError(f"'{name}'은(는) 언어 모델 어댑터라 검색 순위 모델로 쓸 수 없습니다. 검색 순위 모델 이름을 주세요 "
                          "(`dasan models list`).")
    return LearnedRanker.load(model_path(data_dir, name))
