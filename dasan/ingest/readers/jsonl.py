"""JSON Lines reader: one JSON object per line → one ``record`` block.

``text`` is the record's title and body (keys ``title``/``제목``/``name`` and
``text``/``content``/``body``/``내용``/``본문``); the remaining keys go to ``meta["fields"]``.
A record with neither title nor body is rendered as ``key: value`` lines so it is still
searchable. The whole file is validated before any record is returned: one bad line fails
the file with its line number, rather than indexing half of it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError
from dasan.ingest.readers import scrub_surrogates
from dasan.ingest.textdecode import decode_text
from dasan.types import Block, Document

_ID_KEYS = ("id", "_id", "record_id", "ID")
_TITLE_KEYS = ("title", "제목", "name")
_TEXT_KEYS = ("text", "content", "body", "내용", "본문")


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for k in keys:
        if k in obj and obj[k] not in (None, ""):
            return k, obj[k]
    return None, None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, ensure_ascii=False)


class JsonlReader:
    format = "jsonl"

    def read(self, path: Path, data: bytes) -> Document:
        text = decode_text(data)
        objects: list[tuple[int, dict[str, Any]]] = []
        for line_no, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as e:  # JSONDecodeError, over-long integers, deep nesting
                if isinstance(e, json.JSONDecodeError):
                    detail = f"{e.msg}, {e.colno}번째 글자"
                else:
                    detail = "중첩이 너무 깊음" if isinstance(e, RecursionError) else str(e)
                raise CorruptFileError(
                    f"JSONL {line_no}행이 올바른 JSON이 아닙니다 ({detail}). 한 줄에 JSON 객체 하나씩 있어야 합니다. "
                    "해당 줄을 고친 뒤 다시 올려 주세요."
                ) from e
            if "\\u" in line and re.search(r"\\u[dD][89a-fA-F]", line):
                obj = scrub_surrogates(obj)  # a lone surrogate escape cannot be stored as UTF-8
            if not isinstance(obj, dict):
                raise CorruptFileError(
                    f"JSONL {line_no}행이 JSON 객체({{...}})가 아니라 {type(obj).__name__} 값입니다. "
                    "한 줄에 JSON 객체 하나씩 있어야 합니다."
                )
            objects.append((line_no, obj))
        if _is_action_guide([o for _, o in objects]):
            return _action_guide(path, [o for _, o in objects])
        blocks = [self._record(line_no, obj) for line_no, obj in objects]
        return Document(source=str(path), format=self.format, blocks=blocks, title=path.stem)

    def _record(self, line_no: int, obj: dict[str, Any]) -> Block:
        id_key, id_val = _first(obj, _ID_KEYS)
        title_key, title = _first(obj, _TITLE_KEYS)
        text_key, body = _first(obj, _TEXT_KEYS)
        fields = {k: v for k, v in obj.items() if k not in (id_key, title_key, text_key)}
        parts = [_as_text(v) for v in (title, body) if v is not None]
        if not parts:
            parts = [f"{k}: {_as_text(v)}" for k, v in fields.items() if v not in (None, "", [], {})]
        meta: dict[str, Any] = {
            "fields": fields,
            "record_id": _as_text(id_val) if id_val is not None else str(line_no),
            "line": line_no,
        }
        if title is not None:
            meta["title"] = _as_text(title)
        return Block(kind="record", text="\n".join(p for p in parts if p), meta=meta)


# -- 행정안전부 국민행동요령 (action guides): steps with an order, read as a manual -------------------
_GUIDE_KEYS = {"main_order", "sub_order", "text"}


def _is_action_guide(objects: list[dict[str, Any]]) -> bool:
    """Most lines are ordered steps (``main_order``, ``sub_order``, ``text``) of a named guide."""
    if len(objects) < 3:
        return False
    steps = sum(1 for o in objects if o.keys() >= _GUIDE_KEYS)
    return steps >= 0.8 * len(objects) and sum(1 for o in objects if o.get("guide") or o.get("category2")) >= 0.8 * len(objects)


def _order(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _action_guide(path: Path, objects: list[dict[str, Any]]) -> Document:
    """One section per guide (under its category), its steps as a numbered list in order, so a
    guide is chunked and cited like a manual's procedure ("지하철 화재 발생시 대피요령" 3단계)."""
    guides: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for o in objects:
        text = _as_text(o.get("text") or "").strip()
        if not text:
            continue
        cat = _as_text(o.get("category2") or o.get("category1") or "기타").strip()
        name = _as_text(o.get("guide") or cat).strip()
        guides.setdefault((cat, name), []).append({**o, "text": text})
    blocks: list[Block] = []
    current_cat = None
    for (cat, name), steps in guides.items():
        if cat != current_cat:
            blocks.append(Block(kind="heading", text=cat, level=1))
            current_cat = cat
        blocks.append(Block(kind="heading", text=name, level=2))
        steps.sort(key=lambda o: (_order(o.get("main_order")), _order(o.get("sub_order"))))
        for n, o in enumerate(steps, start=1):
            blocks.append(Block(kind="list_item", text=o["text"], level=0, meta={"bullet": f"{n}."}))
    return Document(source=str(path), format="jsonl", blocks=blocks, title="국민행동요령",
                    metadata={"source_kind": "action_guide"})
