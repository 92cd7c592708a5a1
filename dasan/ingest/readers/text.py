"""Plain text and Markdown readers.

Markdown is read line by line (not through a full CommonMark renderer) because the text must
survive as written: statute files use ``1\\.`` escapes, ``**①**`` markers and ``<개정 …>``
notes that an HTML renderer would mangle or drop.

Malformed YAML front matter raises :class:`ReadError` naming the line instead of being indexed
as body text: for statutes the front matter carries 시행일자/상태, and silently losing it would
make an out-of-force law look current.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from dasan.errors import ReadError
from dasan.ingest.textdecode import decode_text
from dasan.types import Block, Document


def render_table(rows: list[list[str]]) -> str:
    """Flatten table rows into text: cells joined by `` | ``, one row per line."""
    return "\n".join(" | ".join(c for c in row) for row in rows if any(c.strip() for c in row))


class TextReader:
    """Plain text: paragraphs are separated by blank lines.

    A file without any blank line (one paragraph per line, as statute text exports are) gets
    one paragraph per non-empty line.
    """

    format = "txt"

    def read(self, path: Path, data: bytes) -> Document:
        text = decode_text(data)
        return Document(source=str(path), format=self.format, blocks=text_blocks(text))


def text_blocks(text: str) -> list[Block]:
    lines = text.strip("\n").split("\n")
    if len(lines) > 1 and all(ln.strip() for ln in lines):
        return [Block(kind="paragraph", text=ln.strip()) for ln in lines]
    blocks: list[Block] = []
    for para in re.split(r"\n[ \t\f\v]*\n", text):
        kept = [ln.rstrip() for ln in para.split("\n") if ln.strip()]
        if kept:
            blocks.append(Block(kind="paragraph", text="\n".join(kept).strip()))
    return blocks


# --- Markdown -------------------------------------------------------------------------------

_ESCAPABLE = r"!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"
_ESCAPE = re.compile(r"\\([" + _ESCAPABLE + r"])")
_PLACEHOLDER = re.compile(r"\uE000(\d+)\uE001")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HRULE = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# Bullets, arabic numbering (1. 1) 6의2.) and Korean 목 markers (가. 나.), optionally escaped.
_LIST = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,4}(?:의\d{1,3})?\\?[.)]|[가나다라마바사아자차카타파하]\\?[.)])"
    r"(?:[ \t]+(?P<text>.*))?$"
)
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_GRID_BORDER = re.compile(r"^ {0,3}\+[-=:+ ]+\+[ \t]*$")
_TABLE_SEP = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
# Quantifiers are bounded and emphasis is paired by splitting, not by regex backtracking,
# so a hostile line ("**a " repeated 100 000 times) stays linear.
_CODE = re.compile(r"`([^`\n]{1,1000})`")
_IMAGE = re.compile(r"!\[([^\]\n]{0,500})\]\([^)\n]{0,2000}\)")
_LINK = re.compile(r"\[([^\]\n]{1,500})\]\([^)\n]{0,2000}\)")
_HARD_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)


def inline_text(s: str) -> str:
    """Strip Markdown inline markup (bold, code, links) and unescape ``\\.`` style escapes.

    Angle-bracket text such as ``<개정 2020.5.26>`` is kept as is.
    """
    kept: list[str] = []

    def protect(m: re.Match[str]) -> str:
        kept.append(m.group(1))
        return f"\ue000{len(kept) - 1}\ue001"

    s = _ESCAPE.sub(protect, s)
    s = _CODE.sub(lambda m: m.group(1).strip(), s)
    s = _IMAGE.sub(lambda m: m.group(1), s)
    s = _LINK.sub(lambda m: m.group(1), s)
    for token in ("**", "__", "*"):
        s = _strip_pairs(s, token)
    s = _HARD_BREAK_TAG.sub("\n", s)
    s = _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], s)
    return re.sub(r"[ \t]+", " ", s).strip()


def _strip_pairs(s: str, token: str) -> str:
    """Remove emphasis markers ``token…token`` that hug non-space text (``**①**`` → ``①``)."""
    parts = s.split(token)
    if len(parts) < 3:
        return s
    out = [parts[0]]
    i = 1
    while i < len(parts):
        inner = parts[i]
        if i + 1 < len(parts) and inner and not inner[0].isspace() and not inner[-1].isspace():
            out.append(inner)
            out.append(parts[i + 1])
            i += 2
        else:
            out.append(token + inner)
            i += 1
    return "".join(out)


def _split_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [inline_text(c.replace("\\|", "|")) for c in cells]


#: Most values accepted in front matter once YAML aliases are expanded (a statute has ~500).
MAX_FRONT_MATTER_NODES = 100_000


def _jsonable(value: Any, budget: list[int]) -> Any:
    """YAML dates become ISO strings so that metadata stays JSON-serialisable.

    ``budget`` caps the expanded size: YAML aliases (``*a``) can make a few lines expand
    exponentially (a "billion laughs" document).
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise ReadError(
            "Markdown 머리말(YAML front matter)이 너무 크거나 별칭(*)으로 과도하게 반복됩니다. 머리말을 줄여 주세요."
        )
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v, budget) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, budget) for v in value]
    return value


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    """Return ``(front_matter, body, body_first_line_number)``.

    Front matter is a YAML mapping between a first line ``---`` and a closing ``---``/``...``.
    Without a closing fence, or when the YAML is not a mapping, the text has no front matter.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 1
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}, text, 1
    raw = "\n".join(lines[1:end])
    try:
        loaded = yaml.safe_load(raw) if raw.strip() else {}
    except RecursionError as e:
        raise ReadError("Markdown 머리말(YAML front matter)의 중첩이 너무 깊습니다. 머리말을 고쳐 주세요.") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 2}행" if mark is not None else "머리말"
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ReadError(
            f"Markdown 머리말(YAML front matter)의 {where}에 형식 오류가 있습니다: {problem}. "
            "머리말의 해당 줄을 고치거나(예: 콜론이 든 값은 따옴표로 감싸기) 머리말을 지운 뒤 다시 올려 주세요."
        ) from e
    except (ValueError, OverflowError, TypeError) as e:  # a value YAML cannot build, e.g. date 2026-13-45
        raise ReadError(
            f"Markdown 머리말(YAML front matter)에 만들 수 없는 값이 있습니다 ({e}). "
            "날짜 등 해당 값을 고치거나 따옴표로 감싼 뒤 다시 올려 주세요."
        ) from e
    if not isinstance(loaded, dict):
        return {}, text, 1
    return _jsonable(loaded, [MAX_FRONT_MATTER_NODES]), "\n".join(lines[end + 1 :]), end + 2


class MarkdownReader:
    format = "md"

    def read(self, path: Path, data: bytes) -> Document:
        text = decode_text(data)
        front, body, _ = split_front_matter(text)
        blocks = markdown_blocks(body)
        title = None
        for key in ("title", "제목", "Title"):
            val = front.get(key)
            if isinstance(val, str | int | float) and str(val).strip():
                title = str(val).strip()
                break
        if title is None:
            title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1 and b.text), None)
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=front)


class _MdState:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.para: list[str] = []
        self.list_indents: list[int] = []

    def flush(self) -> None:
        if self.para:
            text = inline_text(" ".join(p.strip() for p in self.para))
            if text:
                self.blocks.append(Block(kind="paragraph", text=text))
            self.para = []


def _list_level(state: _MdState, indent: int) -> int:
    stack = state.list_indents
    while stack and stack[-1] > indent:
        stack.pop()
    if not stack or stack[-1] < indent:
        stack.append(indent)
    return len(stack) - 1


def markdown_blocks(body: str) -> list[Block]:
    st = _MdState()
    lines = body.split("\n")
    i, n = 0, len(lines)
    while i < n:
        line = lines[i].expandtabs(4)
        stripped = line.strip()
        if not stripped:
            st.flush()
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence:
            st.flush()
            mark = fence.group(1)
            code: list[str] = []
            i += 1
            while i < n and not lines[i].strip().startswith(mark):
                code.append(lines[i])
                i += 1
            i += 1
            if any(c.strip() for c in code):
                st.blocks.append(Block(kind="paragraph", text="\n".join(code).strip("\n"), meta={"code": True}))
            continue
        atx = _ATX.match(line)
        if atx:
            st.flush()
            st.list_indents = []
            heading = atx.group(2).strip()
            closing = heading.rstrip("#")
            if closing != heading and (not closing or closing[-1] in " \t"):
                heading = closing  # optional closing sequence: "# 제목 ##"
            st.blocks.append(Block(kind="heading", text=inline_text(heading), level=len(atx.group(1))))
            i += 1
            continue
        setext = _SETEXT.match(line)
        if setext and st.para:
            level = 1 if setext.group(1).startswith("=") else 2
            text = inline_text(" ".join(p.strip() for p in st.para))
            st.para = []
            st.blocks.append(Block(kind="heading", text=text, level=level))
            i += 1
            continue
        if _HRULE.match(line):
            st.flush()
            i += 1
            continue
        if _TABLE_ROW.match(line) or _GRID_BORDER.match(line):
            st.flush()
            i = _read_table(lines, i, st)
            continue
        item = _LIST.match(line)
        if item and (item.group("text") or "").strip():
            st.flush()
            indent = len(item.group("indent"))
            marker = item.group("marker").replace("\\", "")
            content = inline_text(item.group("text") or "")
            ordered = marker not in ("-", "*", "+")
            st.blocks.append(
                Block(
                    kind="list_item",
                    text=f"{marker} {content}" if ordered else content,
                    level=_list_level(st, indent),
                    meta={"bullet": marker},
                )
            )
            i += 1
            continue
        prev = st.blocks[-1] if st.blocks else None
        if not st.para and prev is not None and prev.kind == "list_item" and line.startswith("  ") and i > 0 and lines[i - 1].strip():
            prev.text = f"{prev.text} {inline_text(stripped)}".strip()
            i += 1
            continue
        if stripped.startswith(">"):
            line = re.sub(r"^\s*(>\s?)+", "", line)
        if not st.para:
            st.list_indents = []
        st.para.append(line)
        i += 1
    st.flush()
    return st.blocks


def _read_table(lines: list[str], i: int, st: _MdState) -> int:
    """Consume a pipe (or grid) table starting at ``lines[i]``; return the next line index."""
    rows: list[list[str]] = []
    grid = False
    n = len(lines)
    while i < n:
        line = lines[i].expandtabs(4)
        if _GRID_BORDER.match(line):
            grid = True
        elif _TABLE_SEP.match(line) and "|" in line:
            pass
        elif _TABLE_ROW.match(line):
            rows.append(_split_row(line))
        elif not line.strip() and grid:
            # Grid tables exported from HWP are sometimes double-spaced: look past blank lines.
            j = i
            while j < n and not lines[j].strip():
                j += 1
            if j < n and (_TABLE_ROW.match(lines[j]) or _GRID_BORDER.match(lines[j])):
                i = j
                continue
            break
        else:
            break
        i += 1
    if rows:
        st.blocks.append(Block(kind="table", text=render_table(rows), rows=rows))
    return i
