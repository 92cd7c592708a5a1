"""CSV and XLSX readers: one ``record`` block per data row.

The first non-empty row is the header. Each record keeps ``meta["fields"]`` (column → value,
empty cells left out), ``meta["record_id"]`` (an id column's value when the header has one,
else the row number as a spreadsheet shows it), ``meta["row"]`` and ``meta["sheet"]``;
its ``text`` is ``column: value`` lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError, DasanError, EncryptedFileError, FileTooLargeError
from dasan.ingest.readers.docx import guard_zip
from dasan.ingest.textdecode import decode_text
from dasan.types import Block, Document

#: Characters of a CSV file given to ``csv.Sniffer``.
SNIFF_CHARS = 8192
#: Most sheets accepted in one workbook (each is parsed separately).
MAX_SHEETS = 1000
#: Empty cells (padding up to a row's last cell, missing rows) a workbook may make us visit
#: beyond four per cell that holds a value: a lying or sparse sheet must not cost billions.
MAX_PADDING = 2_000_000
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\b")

_ID_NAMES = {"id", "_id", "record_id", "번호", "일련번호", "아이디", "식별자"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _header(cells: list[str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cells):
        name = " ".join(c.split()) or f"열{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


_ID_SUFFIXES = ("번호", "코드", "ID", "Id", "id")
# Never use a personal identifier or contact number as the record id (it ends up in citations).
_NOT_ID = ("전화", "휴대", "연락", "주민", "외국인", "여권", "면허", "계좌", "카드", "팩스", "우편", "사업자", "법인등록")


def _id_column(header: list[str]) -> int | None:
    """An explicit id column anywhere, else a first column named like ``사고번호``/``policyId``."""
    for i, name in enumerate(header):
        low = name.lower()
        if low in _ID_NAMES or low.endswith("_id"):
            return i
    first = header[0] if header else ""
    if first.endswith(_ID_SUFFIXES) and not any(w in first for w in _NOT_ID):
        return 0
    return None


def records(rows: Iterable[tuple[int, list[str]]], sheet: str | None) -> list[Block]:
    """Turn ``(row_number, cells)`` pairs into record blocks; the first non-empty row is the header."""
    header: list[str] | None = None
    id_col: int | None = None
    blocks: list[Block] = []
    for row_no, cells in rows:
        if not any(c for c in cells):
            continue
        if header is None:
            header = _header(cells)
            id_col = _id_column(header)
            continue
        fields: dict[str, str] = {}
        for i, value in enumerate(cells):
            if not value:
                continue
            name = header[i] if i < len(header) else f"열{i + 1}"
            fields[name] = value
        record_id = str(row_no)
        if id_col is not None and id_col < len(cells) and cells[id_col]:
            record_id = cells[id_col]
        text = "\n".join(f"{k}: {v}" for k, v in fields.items())
        blocks.append(
            Block(kind="record", text=text,
                  meta={"fields": fields, "record_id": record_id, "row": row_no, "sheet": sheet})
        )
    ids = [b.meta["record_id"] for b in blocks]
    if id_col is not None and len(set(ids)) != len(ids):
        for b in blocks:  # an id column with repeats cannot identify records: use row numbers
            b.meta["record_id"] = str(b.meta["row"])
    return blocks


def _sniff_delimiter(sample: str, name: str) -> str:
    if name.lower().endswith(".tsv"):
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        first = next((ln for ln in sample.split("\n") if ln.strip()), "")
        counts = {d: first.count(d) for d in ",\t;|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


class CsvReader:
    format = "csv"

    def read(self, path: Path, data: bytes) -> Document:
        text = decode_text(data)
        # Only sniff whole lines: a cut quoted field confuses the sniffer. The sniffer's regexes
        # are quadratic in the sample (64 KiB of quotes took 16 s), so the sample stays small.
        sample = text[:SNIFF_CHARS]
        if len(text) > len(sample) and "\n" in sample:
            sample = sample[: sample.rfind("\n")]
        delimiter = _sniff_delimiter(sample, path.name)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

        def numbered() -> Iterable[tuple[int, list[str]]]:
            n = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as e:
                    raise CorruptFileError(
                        f"CSV {reader.line_num}행을 해석할 수 없습니다 ({e}). 따옴표 짝이나 구분자를 확인해 주세요."
                    ) from e
                n += 1
                yield n, [c.strip() for c in row]

        blocks = records(numbered(), None)
        return Document(source=str(path), format=self.format, blocks=blocks, title=path.stem,
                        metadata={"delimiter": delimiter})


def _count_sheets(data: bytes) -> int:
    """Sheets declared in ``xl/workbook.xml`` (0 when it cannot be read: openpyxl reports that)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("xl/workbook.xml")
            if info.file_size > 16 * 1048576:
                return MAX_SHEETS + 1
            return len(_SHEET_TAG.findall(zf.read(info)))
    except Exception:
        return 0


class _PaddingBudget:
    """Counts the empty cells openpyxl pads rows with; refuses a sheet that is mostly padding."""

    def __init__(self) -> None:
        self.padded = 0
        self.present = 0

    def charge(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        n = len(values)
        filled = n - values.count(None)
        self.present += filled
        self.padded += n - filled + 1
        if self.padded > MAX_PADDING + 4 * self.present:
            raise FileTooLargeError(
                "XLSX 시트의 셀 범위가 비정상적으로 넓습니다 (값 없이 멀리 떨어진 셀이나 빈 행이 너무 많음). "
                "Excel에서 사용하지 않는 행과 열을 지운 뒤 다시 저장해 주세요."
            )
        return values


class XlsxReader:
    format = "xlsx"

    def read(self, path: Path, data: bytes) -> Document:
        guard_zip(data, "XLSX")
        sheets_declared = _count_sheets(data)
        if sheets_declared > MAX_SHEETS:
            raise FileTooLargeError(
                f"XLSX 파일의 시트가 너무 많습니다 ({sheets_declared}개 > {MAX_SHEETS}개). 통합 문서를 나누어 저장해 주세요."
            )
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, KeyError, zipfile.BadZipFile, NotImplementedError) as e:
            raise CorruptFileError(
                f"XLSX 파일 구조가 올바르지 않습니다 ({type(e).__name__}: {e}). Excel에서 열어 다시 저장해 주세요."
            ) from e
        except Exception as e:  # XML syntax errors and malformed parts
            if "encrypt" in str(e).lower():
                raise EncryptedFileError("암호가 걸린 XLSX 파일입니다. 암호를 해제한 뒤 다시 올려 주세요.") from e
            raise CorruptFileError(
                f"XLSX 파일을 해석하지 못했습니다 ({type(e).__name__}: {e}). Excel에서 열어 다시 저장해 주세요."
            ) from e
        blocks: list[Block] = []
        sheets: list[str] = []
        seen_parts: set[str] = set()
        budget = _PaddingBudget()
        try:
            for ws in wb.worksheets:
                part = getattr(ws, "_worksheet_path", None)
                if isinstance(part, str):
                    if part in seen_parts:
                        continue  # several sheets pointing at one part: read it once
                    seen_parts.add(part)
                sheets.append(ws.title)
                if hasattr(ws, "reset_dimensions"):
                    ws.reset_dimensions()  # a lying <dimension> would pad every row to 16384 cells
                rows = (
                    (n, [_cell(v) for v in budget.charge(values)])
                    for n, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)
                )
                blocks.extend(records(rows, ws.title))
        except (MemoryError, RecursionError, DasanError):
            raise
        except Exception as e:  # zipfile/XML/openpyxl errors all mean a damaged workbook
            raise CorruptFileError(
                f"XLSX 시트를 읽는 중 파일 손상을 발견했습니다 ({type(e).__name__}: {e}). Excel에서 다시 저장해 주세요."
            ) from e
        finally:
            wb.close()
        title = path.stem
        props = getattr(wb, "properties", None)
        meta: dict[str, Any] = {"sheets": sheets}
        if props is not None:
            if props.title:
                title = props.title
            for key, val in (("author", props.creator), ("created", props.created), ("modified", props.modified)):
                if val:
                    meta[key] = _cell(val) if not isinstance(val, str) else val
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=meta)
