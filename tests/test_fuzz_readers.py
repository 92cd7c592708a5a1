"""Fuzzing of every reader through the ingestion path (read → structure → chunk).

Cases run in a worker subprocess (``scripts/fuzz_readers.py``) under an address-space limit,
each with a timeout, while an audit hook watches which files get opened. A case passes when it
ends in a ``Document`` or in a ``DasanError`` with a safe Korean message; anything else fails
the test with the path of the saved reproducer. A longer run::

    .venv/bin/python scripts/fuzz_readers.py --seconds 300 --seed 1
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import random
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import shared_path
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dasan.errors import DasanError, FileTooLargeError, ReadError
from dasan.ingest.chunking import chunk_document
from dasan.ingest.readers import read_file

_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz_readers.py"
_spec = importlib.util.spec_from_file_location("fuzz_readers", _SCRIPT)
assert _spec is not None and _spec.loader is not None
fz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_readers"] = fz
_spec.loader.exec_module(fz)

#: Seconds one case may take in the worker (inputs here are small; the budget absorbs a busy machine).
CASE_TIMEOUT = 30.0
#: Address space the worker may grow by beyond its warmed-up size (Kiwi and all readers loaded).
MEMORY_HEADROOM_MB = 1024

_FUZZ = settings(
    derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=False,
)


@pytest.fixture(scope="module")
def shared_root() -> Path:
    return shared_path("data", "hwp-samples").parent.parent


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[fz.Runner]:
    saved = tmp_path_factory.mktemp("fuzz-reproducers")  # failing inputs, named in the failure message
    with fz.Runner(timeout=CASE_TIMEOUT, mem_mb=MEMORY_HEADROOM_MB, save_dir=saved) as r:
        yield r


@pytest.fixture(scope="module")
def seeds(shared_root: Path) -> list[fz.Case]:
    found = fz.all_seeds(shared_root)
    assert sum(c.filename == "seed.hwp" for c in found) >= 30
    assert sum(c.filename == "seed.hwpx" for c in found) >= 70
    return found


def _failures(results: list[fz.Result]) -> str:
    return "\n".join(f"{r.outcome}: {r.case}\n    {r.detail.splitlines()[0] if r.detail else ''}\n    saved: {r.saved}"
                     for r in results if not r.ok)


def _run_all(runner: fz.Runner, cases: list[fz.Case]) -> list[fz.Result]:
    results = [runner.run(c) for c in cases]
    bad = _failures(results)
    assert not bad, f"unclean outcomes:\n{bad}"
    return results


# ---------------------------------------------------------------------------------------
# whole corpus, targeted hostile files, traversal
# ---------------------------------------------------------------------------------------


def test_unmutated_seeds_read_cleanly(runner: fz.Runner, seeds: list[fz.Case]) -> None:
    results = _run_all(runner, seeds)
    outcome = {r.case: r for r in results}
    assert outcome["hwp/password-12345.hwp"].outcome == "error"
    assert outcome["hwp/viewtext.hwp"].outcome == "doc"
    assert sum(r.outcome == "doc" for r in results) >= len(results) - 2


def test_targeted_hostile_files(runner: fz.Runner, shared_root: Path) -> None:
    cases = fz.hostile_cases(shared_root, runner.secret_uri, heavy=False)
    assert len(cases) > 80
    results = {r.case: r for r in _run_all(runner, cases)}
    # Bombs and lying headers are refused with the size error, not read.
    for name in ("hwpx:zip-bomb-section", "docx:zip-bomb-member", "hwpx:declared-4GB", "hwpx:many-members",
                 "hwp:paragraph-ratio-bomb", "pdf:pages-sharing-one-big-content-stream",
                 "pdf:form-xobject-drawn-5000-times"):
        assert results[name].outcome == "error" and "FileTooLargeError" in results[name].detail, results[name]
    for name in ("hwpx:bomb-section", "hwpx:xxe-section", "hwpml:bomb", "hwpml:xxe"):
        assert results[name].outcome == "error", results[name]
    assert max(r.secs for r in results.values()) < CASE_TIMEOUT


def test_paths_inside_archives_never_leave_the_file(runner: fz.Runner) -> None:
    """ZIP member names, manifest hrefs and relationship targets pointing outside the archive
    (``../../etc/passwd``, absolute paths, ``file://`` URIs to a secret next to the file)."""
    _run_all(runner, fz.traversal_cases(runner.secret_uri))


# ---------------------------------------------------------------------------------------
# mutations (hypothesis drives the choice of seed and mutation; derandomized)
# ---------------------------------------------------------------------------------------


@settings(_FUZZ, max_examples=400)
@given(pick=st.integers(min_value=0, max_value=2**32 - 1), seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_mutated_files(runner: fz.Runner, seeds: list[fz.Case], pick: int, seed: int) -> None:
    rng = random.Random(seed)
    case = fz.mutate_case(fz.pick_seed(seeds, random.Random(pick)), rng, secret_uri=runner.secret_uri)
    res = runner.run(case)
    assert res.ok, f"{res.outcome}: {res.case}\n{res.detail}\nsaved: {res.saved}"


@settings(_FUZZ, max_examples=120)
@given(magic=st.integers(min_value=0, max_value=len(fz.MAGICS) - 1), tail=st.binary(max_size=3000))
def test_random_bytes_behind_a_valid_magic(runner: fz.Runner, magic: int, tail: bytes) -> None:
    res = runner.run(fz.magic_case(magic, tail))
    assert res.ok, f"{res.outcome}: {res.case}\n{res.detail}\nsaved: {res.saved}"


# ---------------------------------------------------------------------------------------
# hostile file names
# ---------------------------------------------------------------------------------------

_NAME_CHARS = st.characters(codec="utf-8", exclude_characters="/\x00")


@settings(_FUZZ, max_examples=60)
@given(name=st.one_of(st.sampled_from(fz.HOSTILE_FILE_NAMES), st.text(_NAME_CHARS, min_size=1, max_size=60)),
       content=st.sampled_from([b"", b"\x00\x01\x02garbage", "본문 텍스트\n".encode(), b"PK\x03\x04broken"]))
def test_hostile_file_names(runner: fz.Runner, name: str, content: bytes) -> None:
    if name in (".", "..") or len(name.encode()) > 255:
        return
    target = runner.cases_dir / name
    target.write_bytes(content)
    try:
        res = runner.run(fz.Case(f"name:{name!r}", content, name, mode="read"), path=str(target))
    finally:
        target.unlink()
    assert res.ok, f"{res.outcome}: {res.case}\n{res.detail}"


def test_names_in_errors_are_escaped(tmp_path: Path) -> None:
    for name in ("줄\n바꿈.hwp", "rtl-\u202egpj.pdf", "esc\x1b[31m.txt"):
        p = tmp_path / name
        p.write_bytes(b"\x00\x01\x02 not a document")
        with pytest.raises(ReadError) as e:
            read_file(p)
        assert fz.message_problem(str(e.value), korean=False) is None, repr(str(e.value))
        assert fz.message_problem(e.value.message) is None
    with pytest.raises(ReadError, match="파일을 열 수 없습니다"):
        read_file(str(tmp_path / "nul\x00byte.hwp"))


# ---------------------------------------------------------------------------------------
# regressions for what fuzzing found (in process, fast)
# ---------------------------------------------------------------------------------------


def test_lone_surrogates_never_reach_the_chunks(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_text('{"id": 1, "text": "앞\\ud800뒤", "tags": ["\\udfff"]}\n', encoding="utf-8")
    doc = read_file(p)
    assert doc.blocks[0].text == "앞\ufffd뒤"
    assert doc.blocks[0].meta["fields"]["tags"] == ["\ufffd"]
    chunks = chunk_document(doc, "d")
    json.dumps([c.meta for c in chunks], ensure_ascii=False).encode()
    md = tmp_path / "s.md"
    md.write_text('---\ntitle: "제목\\ud800"\n---\n본문\n', encoding="utf-8")
    assert read_file(md).metadata["title"] == "제목\ufffd"


def test_unbuildable_front_matter_value_is_a_read_error(tmp_path: Path) -> None:
    p = tmp_path / "d.md"
    p.write_text("---\ndate: 2026-13-45\n---\n본문\n", encoding="utf-8")
    with pytest.raises(ReadError, match="머리말"):
        read_file(p)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in members.items():
            zf.writestr(n, d)
    return buf.getvalue()


def test_xlsx_lying_dimension_and_sparse_cells_stay_cheap(tmp_path: Path) -> None:
    members = dict(fz.zip_members(fz.make_xlsx()) or [])
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:XFD1048576"/><sheetData>'
             + b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, 3000))
             + b"</sheetData></worksheet>")
    p = tmp_path / "dim.xlsx"
    p.write_bytes(_zip({**members, "xl/worksheets/sheet1.xml": sheet}))
    started = time.monotonic()
    doc = read_file(p)
    assert time.monotonic() - started < 10
    assert [len(b.meta["fields"]) for b in doc.blocks[:3]] == [1, 1, 1]
    sparse = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b"<sheetData>" + b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (i, i) for i in range(1, 20000))
              + b"</sheetData></worksheet>")
    p.write_bytes(_zip({**members, "xl/worksheets/sheet1.xml": sparse}))
    started = time.monotonic()
    with pytest.raises(FileTooLargeError, match="셀 범위"):
        read_file(p)
    assert time.monotonic() - started < 10


def test_xlsx_sheet_references_are_bounded(tmp_path: Path) -> None:
    members = dict(fz.zip_members(fz.make_xlsx()) or [])
    wb = members["xl/workbook.xml"]
    start = wb.index(b"<sheet ")
    one = wb[start : wb.index(b"/>", start) + 2]
    p = tmp_path / "many.xlsx"
    p.write_bytes(_zip({**members, "xl/workbook.xml": wb.replace(one, one * 1500, 1)}))
    with pytest.raises(FileTooLargeError, match="시트가 너무 많습니다"):
        read_file(p)
    p.write_bytes(_zip({**members, "xl/workbook.xml": wb.replace(one, one * 300, 1)}))
    doc = read_file(p)  # 300 sheets naming one part: the part is read once
    assert doc.metadata["sheets"] == ["사고", "요약"]


def test_docx_many_paragraphs_is_linear(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    for i in range(6000):
        d.add_paragraph(f"문단 {i}")
    p = tmp_path / "long.docx"
    d.save(str(p))
    started = time.monotonic()
    doc = read_file(p)
    assert len(doc.blocks) == 6000
    assert time.monotonic() - started < 10  # style lookups used to cost ~3 ms per paragraph


def test_docx_highly_compressed_part_is_refused(tmp_path: Path) -> None:
    members = dict(fz.zip_members(fz.make_docx()) or [])
    body = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 400_000  # ~14 MB at several hundred to one
    doc_xml = members["word/document.xml"].replace(b"<w:body>", b"<w:body>" + body, 1)
    p = tmp_path / "bomb.docx"
    p.write_bytes(_zip({**members, "word/document.xml": doc_xml}))
    with pytest.raises(FileTooLargeError, match="압축"):
        read_file(p)


def test_csv_sniffing_hostile_quotes_is_fast(tmp_path: Path) -> None:
    p = tmp_path / "q.csv"
    p.write_bytes((b'"a"' + b',"b' * 20_000 + b"\n") * 3)
    started = time.monotonic()
    with contextlib.suppress(DasanError):
        read_file(p)
    assert time.monotonic() - started < 5  # a 64 KiB sniffing sample took 16 s


def test_zip_errors_of_every_compression_method_are_typed(tmp_path: Path) -> None:
    import struct

    section = fz._section(fz._para("본문"))
    data = bytearray(fz._zip([("mimetype", b"application/hwp+zip"), ("Contents/section0.xml", section)],
                             zipfile.ZIP_LZMA))
    at = data.index(b"Contents/section0.xml", data.index(b"PK\x03\x04", 10)) + len("Contents/section0.xml")
    data[at + 20 : at + 30] = b"\xff" * 10  # corrupt the LZMA stream
    p = tmp_path / "lzma.hwpx"
    p.write_bytes(bytes(data))
    with pytest.raises(ReadError) as e:
        read_file(p)
    assert type(e.value) is not ReadError  # a reader error, not the last-resort wrapper
    cd = data.index(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 6, 0xFF)  # "version needed to extract" the zipfile module lacks
    p.write_bytes(bytes(data))
    with pytest.raises(ReadError):
        read_file(p)


def test_hwp_compression_ratio_is_bounded(tmp_path: Path) -> None:
    p = tmp_path / "para.hwp"
    p.write_bytes(fz._hwp_from(b"", extra={"BodyText/Section0": fz._paragraph_bomb(8)}))  # 11 KB → 8 MB
    with pytest.raises(FileTooLargeError, match="압축률"):
        read_file(p)


def test_hwp_long_paragraph_is_split_without_unpacking() -> None:
    from dasan.ingest.readers.hwp_records import Marker, split_para_text

    payload = "가나다 AB".encode("utf-16-le") * 1_000_000 + b"\x0b\x00" + b" lbt" + b"\x00" * 10 + b"\x0d\x00tail"
    started = time.monotonic()
    parts = split_para_text(payload)
    assert time.monotonic() - started < 5
    assert parts[0] == "가나다 AB" * 1_000_000 and parts[1] == Marker(11, "tbl ") and len(parts) == 2


def test_pdf_page_listed_many_times_is_read_once(tmp_path: Path) -> None:
    case = next(c for c in fz.hostile_cases(None, "file:///nowhere", heavy=False)
                if c.name == "pdf:one-page-listed-many-times")
    p = tmp_path / "kids.pdf"
    p.write_bytes(case.data)
    doc = read_file(p)
    assert doc.pages == 3000 and doc.metadata["repeated_pages"] == 2999


# ---------------------------------------------------------------------------------------
# the oracle itself (last: the hang probe kills the worker)
# ---------------------------------------------------------------------------------------


def test_oracle_catches_outside_reads_memory_and_hangs(runner: fz.Runner) -> None:
    res = runner.run(fz.Case("probe", b"x", "probe.txt", mode="probe-open"))
    assert res.outcome == "file-access" and "secret.txt" in res.detail
    assert runner.run(fz.Case("probe", b"x", "probe.txt", mode="probe-memory")).outcome == "bug"
    runner.timeout = 2.0
    assert runner.run(fz.Case("probe", b"x", "probe.txt", mode="probe-hang")).outcome == "hang"
    runner.failures.clear()
