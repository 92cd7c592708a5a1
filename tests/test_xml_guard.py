"""XML with a DTD is refused as hostile, in every XML-based format, before it is parsed.

These tests assert behaviour — the error class, that the file is named, that nothing is
ingested, bounded time and memory — never an XML library's wording, so they hold whatever
lxml (or defusedxml, openpyxl, python-docx) release is installed.
"""

from __future__ import annotations

import io
import resource
import time
import zipfile
from pathlib import Path

import pytest

from dasan.errors import CorruptFileError, HostileFileError, ReadError
from dasan.ingest import xmlguard
from dasan.ingest.pipeline import ingest_paths
from dasan.ingest.readers import read_file
from dasan.store import open_store

LAUGHS_DTD = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)
XXE_DTD = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
QUADRATIC_DTD = '<!DOCTYPE r [<!ENTITY a "' + "A" * 50_000 + '">]>'
PARAM_DTD = '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
DTDS = {"billion-laughs": LAUGHS_DTD, "xxe": XXE_DTD, "quadratic": QUADRATIC_DTD, "parameter": PARAM_DTD}

NS = ('xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" '
      'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"')
HPF = (b'<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/">'
       b'<opf:metadata><opf:title>T</opf:title></opf:metadata><opf:manifest>'
       b'<opf:item id="s0" href="Contents/section0.xml"/></opf:manifest>'
       b'<opf:spine><opf:itemref idref="s0"/></opf:spine></opf:package>')


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _section(prolog: str, *, body: str = "&lol9;&x;&a;") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
            f"<hs:sec {NS}><hp:p><hp:run><hp:t>본문 {body}</hp:t></hp:run></hp:p></hs:sec>").encode()


def _hwpx(section: bytes, hpf: bytes = HPF) -> bytes:
    return _zip({"mimetype": b"application/hwp+zip", "Contents/content.hpf": hpf, "Contents/section0.xml": section})


def _hwpml(prolog: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
            "<HWPML><HEAD/><BODY><SECTION><P><TEXT><CHAR>본문 &lol9;</CHAR></TEXT></P></SECTION></BODY></HWPML>").encode()


def _docx(document_prolog: str = "", rels_prolog: str = "") -> bytes:
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'wordprocessingml.document.main+xml"/></Types>')
    rels = (f'<?xml version="1.0" encoding="UTF-8"?>{rels_prolog}'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>')
    doc = (f'<?xml version="1.0" encoding="UTF-8"?>{document_prolog}'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           '<w:p><w:r><w:t>선로 작업 안전 수칙</w:t></w:r></w:p></w:body></w:document>')
    return _zip({"[Content_Types].xml": ct.encode(), "_rels/.rels": rels.encode(), "word/document.xml": doc.encode()})


def _xlsx_with(prolog: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["사고번호", "역"])
    wb.active.append(["A-1", "시청"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    parts = {}
    for name in src.namelist():
        data = src.read(name)
        if name == "xl/worksheets/sheet1.xml":
            data = b'<?xml version="1.0" encoding="UTF-8"?>' + prolog.encode() + data
        parts[name] = data
    return _zip(parts)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", sorted(DTDS))
@pytest.mark.parametrize("fmt", ["hwpx", "hwpx-manifest", "hwpml", "docx", "docx-rels", "xlsx"])
def test_every_xml_format_refuses_a_dtd_as_hostile(tmp_path: Path, fmt: str, kind: str) -> None:
    dtd = DTDS[kind]
    data = {
        "hwpx": lambda: _hwpx(_section(dtd)),
        "hwpx-manifest": lambda: _hwpx(_section("", body=""), hpf=HPF.replace(b"?>", b"?>" + dtd.encode(), 1)),
        "hwpml": lambda: _hwpml(dtd),
        "docx": lambda: _docx(document_prolog=dtd),
        "docx-rels": lambda: _docx(rels_prolog=dtd),
        "xlsx": lambda: _xlsx_with(dtd),
    }[fmt]()
    ext = {"hwpx-manifest": "hwpx", "docx-rels": "docx"}.get(fmt, fmt)
    path = _write(tmp_path, f"공격_{fmt}.{ext}", data)
    before = _peak_rss_kb()
    t0 = time.perf_counter()
    with pytest.raises(HostileFileError) as err:
        read_file(path)
    assert time.perf_counter() - t0 < 2
    assert _peak_rss_kb() - before < 50_000
    assert not isinstance(err.value, CorruptFileError)  # refused for safety, not "damaged"
    assert err.value.path and path.name in err.value.path  # names the file
    assert "안전" in err.value.message  # says it was refused for safety
    assert "/etc/passwd" not in str(err.value) and "root:" not in str(err.value)


def test_the_same_files_without_a_dtd_read(tmp_path: Path) -> None:
    docs = [
        read_file(_write(tmp_path, "a.hwpx", _hwpx(_section("<!-- 주석 --><?pi x?>", body="")))),
        read_file(_write(tmp_path, "b.hwp", _hwpml("").replace(b"&lol9;", b""))),
        read_file(_write(tmp_path, "c.docx", _docx())),
        read_file(_write(tmp_path, "d.xlsx", _xlsx_with(""))),
    ]
    assert [d.is_empty for d in docs] == [False, False, False, False]
    assert "본문" in docs[0].blocks[0].text
    assert "선로 작업" in docs[2].blocks[0].text


@pytest.mark.parametrize("prolog", [
    '<?xml version="1.0"?>\n<!-- 한글 주석 -->\n<!DOCTYPE r [<!ENTITY a "b">]><r/>'.encode(),
    b'<?xml version="1.0"?><?xml-stylesheet href="x"?><!doctype r><r/>',
    b'\xef\xbb\xbf<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x"><r/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r/>'.encode("utf-16"),
    '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE r><r/>'.encode("utf-16-be"),
    '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE r><r/>'.encode("utf-32"),
    '<?xml version="1.0" encoding="EUC-KR"?><!-- 보도자료 --><!DOCTYPE r><r/>'.encode("euc-kr"),
])
def test_prolog_scan_finds_a_dtd_in_any_encoding(prolog: bytes) -> None:
    with pytest.raises(HostileFileError):
        xmlguard.check_bytes(prolog, label="XML", part="본문")


@pytest.mark.parametrize("clean", [
    b'<?xml version="1.0"?><r>&lt;!DOCTYPE r&gt; in text is fine</r>',
    b'<?xml version="1.0"?><!-- <!DOCTYPE r> inside a comment --><r/>',
    b"<r><![CDATA[<!DOCTYPE r>]]></r>",
    '<?xml version="1.0" encoding="UTF-16"?><r>본문</r>'.encode("utf-16"),
    b"",
    b"   ",
])
def test_prolog_scan_passes_clean_xml(clean: bytes) -> None:
    xmlguard.check_bytes(clean, label="XML", part="본문")


def test_stream_scan_across_reads_and_replays_every_byte() -> None:
    # the DOCTYPE starts after several reads' worth of comments: found all the same
    comments = b"<!--" + b"x" * 10_000 + b"-->"
    with pytest.raises(HostileFileError):
        xmlguard.checked_stream(io.BytesIO(b'<?xml version="1.0"?>' + comments + b"<!DOCTYPE r><r/>"),
                                label="HWPX", part="본문")
    clean = b'<?xml version="1.0"?>' + comments + b"<r>" + "본문".encode() * 5000 + b"</r>"
    stream = xmlguard.checked_stream(io.BytesIO(clean), label="HWPX", part="본문")
    assert stream.read() == clean


def test_an_endless_prolog_is_refused_in_bounded_time() -> None:
    endless = b'<?xml version="1.0"?>' + b"<!--" + b"-" * (10 * 1024 * 1024)
    t0 = time.perf_counter()
    with pytest.raises(HostileFileError):
        xmlguard.checked_stream(io.BytesIO(endless), label="HWPX", part="본문")
    assert time.perf_counter() - t0 < 2


def test_ingest_batch_reports_the_hostile_file_and_keeps_going(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder, "공격.hwpx", _hwpx(_section(LAUGHS_DTD)))
    _write(folder, "정상.docx", _docx())
    store = open_store(tmp_path / "data")
    try:
        report = ingest_paths(store, [folder], recursive=True)
        summary = report.summary()
        failed = {Path(f["path"]).name: f["error"] for f in summary["failed"]}
        assert list(failed) == ["공격.hwpx"]
        assert "안전" in failed["공격.hwpx"]
        assert summary["ingested"] == 1
        names = [Path(d.source_path).name for d in store.list_documents()]
        assert names == ["정상.docx"]  # nothing of the hostile file was stored
    finally:
        store.close()


def test_hostile_is_a_read_error_with_its_own_code() -> None:
    assert issubclass(HostileFileError, ReadError)
    assert HostileFileError.code == "hostile_file"
