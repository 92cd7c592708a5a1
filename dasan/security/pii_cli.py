"""``dasan pii scan PATH...``: report personal data found in documents.

Values are never printed in the clear: each finding shows its masked form.

Exit status (like a linter, so scripts and CI can act on it):
``0`` nothing found and every file read; ``1`` personal data found; ``2`` some file could not be
read (and nothing found); ``3`` both.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from dasan.errors import DasanError
from dasan.security.pii import Finding, detect, mask_value
from dasan.types import Document

EXIT_FOUND = 1
EXIT_ERRORS = 2


@dataclass
class DocFinding:
    """A finding placed in its document: block index (in ``doc.blocks``) and page when known."""

    finding: Finding
    block: int
    page: int | None
    offset: int  # start within the block's text

    def as_dict(self) -> dict[str, Any]:
        f = self.finding
        return {"kind": f.kind, "label": f.label_ko, "masked": mask_value(f), "verified": f.verified,
                "block": self.block, "page": self.page, "offset": self.offset, "length": f.end - f.start}


@dataclass
class FileReport:
    path: str
    format: str | None = None
    press_release: bool = False
    findings: list[DocFinding] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "press_release": self.press_release,
                "findings": [f.as_dict() for f in self.findings], "error": self.error, "error_code": self.error_code}


def scan_document(doc: Document, *, press_release: bool | None = None) -> list[DocFinding]:
    """Findings over the whole document text (so labels and contact rows that sit in a
    neighbouring block still count), each mapped back to its block and page.
    ``press_release=None`` decides by the document's kind or its header."""
    if press_release is None:
        from dasan.ingest.press import is_press_release

        press_release = doc.kind == "press" or is_press_release(doc)
    starts: list[int] = []
    owners: list[int] = []
    pages: list[int | None] = []
    parts: list[str] = []
    pos, page = 0, None
    for i, b in enumerate(doc.blocks):
        if b.kind == "page_break" and b.page is not None:
            page = b.page
        if not b.text:
            continue
        starts.append(pos)
        owners.append(i)
        pages.append(b.page if b.page is not None else page)
        parts.append(b.text)
        pos += len(b.text) + 1
    text = "\n".join(parts)
    out = []
    for f in detect(text, press_release=press_release):
        k = bisect.bisect_right(starts, f.start) - 1
        out.append(DocFinding(f, owners[k], pages[k], f.start - starts[k]))
    return out


def scan_path(path: Path) -> FileReport:
    from dasan.ingest.press import is_press_release
    from dasan.ingest.readers import read_file

    rep = FileReport(str(path))
    try:
        doc = read_file(path)
    except DasanError as e:
        rep.error, rep.error_code = e.message, e.code
        return rep
    rep.format = doc.format
    rep.press_release = doc.kind == "press" or is_press_release(doc)
    rep.findings = scan_document(doc, press_release=rep.press_release)
    return rep


def iter_files(paths: tuple[str, ...], recursive: bool) -> list[Path | str]:
    """Files named or found under the folders named (hidden files skipped); a missing path is
    returned as a string so that it is reported, not silently dropped."""
    out: list[Path | str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            out.extend(sorted(f for f in found if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(path).parts)))
        elif path.exists():
            out.append(path)
        else:
            out.append(p)
    return out


def _summary(reports: list[FileReport]) -> dict[str, Any]:
    kinds = Counter(f.finding.kind for r in reports for f in r.findings)
    return {"files": len(reports), "files_with_pii": sum(1 for r in reports if r.findings),
            "failed": sum(1 for r in reports if r.error), "findings": sum(kinds.values()), "by_kind": dict(kinds)}


@click.group("pii")
def pii() -> None:
    """개인정보(주민등록번호·전화번호·계좌번호 등) 탐지."""


@pii.command("scan")
@click.argument("paths", nargs=-1, required=True)
@click.option("--recursive", "-r", is_flag=True, help="하위 폴더까지 검사")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
def scan(paths: tuple[str, ...], recursive: bool, as_json: bool) -> None:
    """문서에서 개인정보를 찾아 종류·가린 값·위치를 보고합니다.

    종료 코드: 0 없음, 1 개인정보 발견, 2 읽지 못한 파일 있음, 3 둘 다.
    """
    reports: list[FileReport] = []
    for item in iter_files(paths, recursive):
        if isinstance(item, str):
            rep = FileReport(item, error="파일이나 폴더가 없습니다. 경로를 확인하세요.", error_code="not_found")
        else:
            rep = scan_path(item)
        reports.append(rep)
        if not as_json:
            _print_report(rep)
    summary = _summary(reports)
    if as_json:
        click.echo(json.dumps({"files": [r.as_dict() for r in reports], "summary": summary},
                              ensure_ascii=False, indent=2))
    else:
        by_kind = ", ".join(f"{k} {n}" for k, n in summary["by_kind"].items()) or "없음"
        click.echo(f"검사 {summary['files']}개, 개인정보 있는 파일 {summary['files_with_pii']}개 "
                   f"({summary['findings']}건: {by_kind}), 실패 {summary['failed']}개")
    code = (EXIT_FOUND if summary["findings"] else 0) | (EXIT_ERRORS if summary["failed"] else 0)
    raise SystemExit(code)


def _print_report(rep: FileReport) -> None:
    if rep.error:
        click.echo(f"실패: {rep.path}: {rep.error}", err=True)
        return
    if not rep.findings:
        click.echo(f"{rep.path}: 개인정보 없음")
        return
    note = " (보도자료: 공무원 연락처 제외)" if rep.press_release else ""
    click.echo(f"{rep.path}: {len(rep.findings)}건{note}")
    for df in rep.findings:
        f = df.finding
        where = (f"p.{df.page} " if df.page is not None else "") + f"블록 {df.block} +{df.offset}"
        flag = " [검증됨]" if f.verified else ""
        click.echo(f"  {where}: {f.label_ko} {mask_value(f)}{flag}")
