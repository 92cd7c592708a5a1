"""Reading an answered-question archive: JSONL records ``{"id", "question", "answer"}`` (optional
``title``, ``reason``, ``case_no``), one file or a folder of ``*.jsonl`` files.

A bad line (not JSON, missing question or answer) is skipped with a message naming the file and
line; the rest of the archive is read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dasan.errors import ConfigError


@dataclass(frozen=True)
class Record:
    id: str
    question: str
    answer: str  # the official answer with its reasons (what labels are read from)
    title: str = ""
    source: str = ""  # file name

    @property
    def search_text(self) -> str:
        """What the archive is searched by: the record's title (a summary of the question, when
        the archive has one) and the question."""
        return f"{self.title}\n{self.question}" if self.title else self.question


def archive_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(p.glob("*.jsonl")))
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError("질의응답 기록 파일이나 폴더가 없습니다. 경로를 확인하세요 (JSONL 파일 또는 *.jsonl이 든 폴더).",
                              path=str(p))
    if not out:
        raise ConfigError("질의응답 기록(*.jsonl)이 하나도 없습니다. --archive 경로를 확인하세요.")
    return out


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_archive(paths: Iterable[str | Path], warn: Callable[[str], None] = lambda s: None) -> list[Record]:
    """Every record of the archive, in file order; duplicate ids keep the first."""
    records: list[Record] = []
    seen: set[str] = set()
    for path in archive_files(paths):
        with path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    warn(f"{path}:{n}: JSON이 아니어서 건너뜀 ({e.msg})")
                    continue
                if not isinstance(obj, dict):
                    warn(f"{path}:{n}: 객체가 아니어서 건너뜀")
                    continue
                q, a = obj.get("question"), obj.get("answer")
                if not isinstance(q, str) or not q.strip() or not isinstance(a, str) or not a.strip():
                    warn(f"{path}:{n}: question 또는 answer가 없어 건너뜀")
                    continue
                rid = str(obj.get("id") or f"{path.stem}:{n}")
                if rid in seen:
                    continue
                seen.add(rid)
                reason = obj.get("reason")
                answer = f"{a}\n{reason}" if isinstance(reason, str) and reason.strip() else a
                title = obj.get("title") if isinstance(obj.get("title"), str) else ""
                records.append(Record(rid, q.strip(), answer, title.strip(), path.name))
    return records
