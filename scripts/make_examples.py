"""Build the binary files of the sample corpus in ``examples/``.

All text is fictional and written for this project. The press releases are kept as YAML in
``scripts/example_sources/`` and rendered to HWPX (an OWPML zip written here), HWP 5.0 (via
``dasan.ingest.hwp_writer``) and PDF (fpdf2 with the Nanum Gothic font). The markdown manual,
the CSV records and the JSON Lines notices are edited directly under ``examples/``.

Output is deterministic (fixed zip timestamps and PDF metadata), so rebuilding does not churn
git. Usage::

    .venv/bin/python scripts/make_examples.py            # rebuild into examples/
    .venv/bin/python scripts/make_examples.py --check    # rebuild elsewhere, compare bytes
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SOURCES = Path(__file__).resolve().parent / "example_sources"
EXAMPLES = REPO / "examples"
FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
ZIP_TIME = (2026, 1, 1, 9, 0, 0)

Table = list[list[str]]


class PageBreak:
    """Marks a forced page break (honoured by the PDF and HWPX builders)."""


PAGE_BREAK = PageBreak()
Item = str | Table | PageBreak


@dataclass
class Release:
    output: str
    ministry: str
    embargo: dict[str, str]  # {"online": …, "print": …} as the header table states them
    released: str
    title: str
    subtitles: list[str]
    body: list[Item]
    contacts: Table
    attachments: list[Item]
    tags: list[str] = field(default_factory=list)  # 【관련 국정과제】

    @property
    def banner(self) -> Table:
        """The top table of a real release: the ministry (its logo) and "보도자료"."""
        return [[self.ministry, "보도자료"]]

    @property
    def header(self) -> Table:
        """배포 and 보도시점 cells; the print time sits under the online time (a merged label)."""
        return [["배포", self.released, "보도시점", f"(인터넷) {self.embargo['online']}"],
                ["", "", "", f"(지  면) {self.embargo['print']}"]]

    @property
    def title_box(self) -> Table:
        """Headline in the first row, dash subtitles (and 국정과제 tags) in the second."""
        second = "\n".join([*self.subtitles, *(f"【관련 국정과제】 {t}" for t in self.tags)])
        return [[self.title], [second]] if second else [[self.title]]

    def items(self) -> list[Item]:
        """The document in reading order: header tables, title box, body, contacts, attachments."""
        return [self.banner, self.header, self.title_box, *self.body, self.contacts, *self.attachments]


def _items(raw: list[object]) -> list[Item]:
    out: list[Item] = []
    for entry in raw:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict) and "table" in entry:
            out.append([[str(c) for c in row] for row in entry["table"]])
        elif isinstance(entry, dict) and entry.get("page_break"):
            out.append(PAGE_BREAK)
        else:
            raise ValueError(f"unknown block in example source: {entry!r}")
    return out


def load_release(path: Path) -> Release:
    d = yaml.safe_load(path.read_text(encoding="utf-8"))
    emb = d["embargo"]
    embargo = {"online": str(emb["online"]), "print": str(emb["print"])} if isinstance(emb, dict) else {
        "online": str(emb), "print": str(emb)}
    return Release(
        output=d["output"], ministry=d["ministry"], embargo=embargo, released=d["released"],
        title=d["title"], subtitles=list(d.get("subtitles", [])), body=_items(d["body"]),
        contacts=[[str(c) for c in row] for row in d["contacts"]], attachments=_items(d.get("attachments", [])),
        tags=list(d.get("tags", [])),
    )


# --------------------------------------------------------------------------------------- HWPX

# OWPML namespaces and the XML declaration: the same as the press desk's HWPX writer.
from dasan.apps.press.hwpx_writer import DECL, LANGS, NS, XMLNS  # noqa: E402

PAGE_W, PAGE_H, MARGIN_LR = 59528, 84186, 8504
TEXT_W = PAGE_W - 2 * MARGIN_LR
# charPr ids: 0 body, 1 title, 2 subtitle, 3 table text, 4 banner ("보도자료")
CHAR_PRS = [(1200, False), (2000, True), (1300, False), (1000, False), (2200, True)]
# paraPr ids: 0 justify, 1 centre, 2-4 indented by bullet depth
PARA_PRS = [("JUSTIFY", 0), ("CENTER", 0), ("JUSTIFY", 1000), ("JUSTIFY", 2000), ("JUSTIFY", 3000)]


def _langs(value: str) -> str:
    return " ".join(f'{lang.lower()}="{value}"' for lang in LANGS)


def _border_fill(fid: int, line: str) -> str:
    sides = "".join(f'<hh:{s}Border type="{line}" width="0.12 mm" color="#000000"/>' for s in ("left", "right", "top", "bottom"))
    return (f'<hh:borderFill id="{fid}" threeD="0" shadow="0" centerLine="NONE" breakCellSeparateLine="0">'
            '<hh:slash type="NONE" Crooked="0" isCounter="0"/><hh:backSlash type="NONE" Crooked="0" isCounter="0"/>'
            f'{sides}<hh:diagonal type="SOLID" width="0.1 mm" color="#000000"/></hh:borderFill>')


def hwpx_header() -> str:
    fonts = "".join(
        f'<hh:fontface lang="{lang}" fontCnt="1"><hh:font id="0" face="함초롬바탕" type="TTF" isEmbedded="0"/></hh:fontface>'
        for lang in LANGS
    )
    chars = "".join(
        f'<hh:charPr id="{i}" height="{h}" textColor="#000000" shadeColor="none" useFontSpace="0" useKerning="0" '
        f'symMark="NONE" borderFillIDRef="1"><hh:fontRef {_langs("0")}/><hh:ratio {_langs("100")}/>'
        f'<hh:spacing {_langs("0")}/><hh:relSz {_langs("100")}/><hh:offset {_langs("0")}/>'
        f'{"<hh:bold/>" if bold else ""}<hh:underline type="NONE" shape="SOLID" color="#000000"/>'
        '<hh:strikeout shape="NONE" color="#000000"/><hh:outline type="NONE"/>'
        '<hh:shadow type="NONE" color="#C0C0C0" offsetX="10" offsetY="10"/></hh:charPr>'
        for i, (h, bold) in enumerate(CHAR_PRS)
    )
    paras = "".join(
        f'<hh:paraPr id="{i}" tabPrIDRef="0" condense="0" fontLineHeight="0" snapToGrid="1" '
        f'suppressLineNumbers="0" checked="0"><hh:align horizontal="{align}" vertical="BASELINE"/>'
        '<hh:heading type="NONE" idRef="0" level="0"/><hh:breakSetting breakLatinWord="KEEP_WORD" '
        'breakNonLatinWord="KEEP_WORD" widowOrphan="0" keepWithNext="0" keepLines="0" pageBreakBefore="0" '
        'lineWrap="BREAK"/><hh:autoSpacing eAsianEng="0" eAsianNum="0"/><hh:margin>'
        f'<hc:intent value="0" unit="HWPUNIT"/><hc:left value="{left}" unit="HWPUNIT"/>'
        '<hc:right value="0" unit="HWPUNIT"/><hc:prev value="0" unit="HWPUNIT"/><hc:next value="0" unit="HWPUNIT"/>'
        '</hh:margin><hh:lineSpacing type="PERCENT" value="160" unit="HWPUNIT"/>'
        '<hh:border borderFillIDRef="1" offsetLeft="0" offsetRight="0" offsetTop="0" offsetBottom="0" '
        'connect="0" ignoreMargin="0"/></hh:paraPr>'
        for i, (align, left) in enumerate(PARA_PRS)
    )
    return (
        f'{DECL}<hh:head {XMLNS} version="1.4" secCnt="1">'
        '<hh:beginNum page="1" footnote="1" endnote="1" pic="1" tbl="1" equation="1"/><hh:refList>'
        f'<hh:fontfaces itemCnt="{len(LANGS)}">{fonts}</hh:fontfaces>'
        f'<hh:borderFills itemCnt="2">{_border_fill(1, "NONE")}{_border_fill(2, "SOLID")}</hh:borderFills>'
        f'<hh:charProperties itemCnt="{len(CHAR_PRS)}">{chars}</hh:charProperties>'
        '<hh:tabProperties itemCnt="1"><hh:tabPr id="0" autoTabLeft="0" autoTabRight="0"/></hh:tabProperties>'
        f'<hh:paraProperties itemCnt="{len(PARA_PRS)}">{paras}</hh:paraProperties>'
        '<hh:styles itemCnt="1"><hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="0" '
        'charPrIDRef="0" nextStyleIDRef="0" langID="1042" lockForm="0"/></hh:styles>'
        '</hh:refList><hh:compatibleDocument targetProgram="HWP201X"><hh:layoutCompatibility/>'
        '</hh:compatibleDocument><hh:docOption><hh:linkinfo path="" pageInherit="0" footnoteInherit="0"/>'
        '</hh:docOption></hh:head>'
    )


SEC_PR = (
    '<hp:secPr id="" textDirection="HORIZONTAL" spaceColumns="1134" tabStop="8000" tabStopVal="4000" '
    'tabStopUnit="HWPUNIT" outlineShapeIDRef="0" memoShapeIDRef="0" textVerticalWidthHead="0" masterPageCnt="0">'
    '<hp:grid lineGrid="0" charGrid="0" wonggojiFormat="0"/>'
    '<hp:startNum pageStartsOn="BOTH" page="0" pic="0" tbl="0" equation="0"/>'
    '<hp:visibility hideFirstHeader="0" hideFirstFooter="0" hideFirstMasterPage="0" border="SHOW_ALL" '
    'fill="SHOW_ALL" hideFirstPageNum="0" hideFirstEmptyLine="0" showLineNumber="0"/>'
    '<hp:lineNumberShape restartType="0" countBy="0" distance="0" startNumber="0"/>'
    f'<hp:pagePr landscape="WIDELY" width="{PAGE_W}" height="{PAGE_H}" gutterType="LEFT_ONLY">'
    f'<hp:margin header="4252" footer="4252" gutter="0" left="{MARGIN_LR}" right="{MARGIN_LR}" top="5668" bottom="4252"/>'
    '</hp:pagePr></hp:secPr><hp:ctrl><hp:colPr id="" type="NEWSPAPER" layout="LEFT" colCount="1" sameSz="1" sameGap="0"/></hp:ctrl>'
)


def _style_of(text: str) -> tuple[int, int]:
    """(paraPr, charPr) for a body line, chosen by its bullet marker."""
    s = text.lstrip()
    if s.startswith(("○", "ㅇ")):
        return 2, 0
    if s.startswith("-") and not s.endswith("-"):
        return 3, 0
    if s.startswith(("*", "※")):
        return 4, 0
    return 0, 0


class HwpxBuilder:
    def __init__(self) -> None:
        self.next_id = 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def para(self, text: str, para_pr: int, char_pr: int, *, page_break: bool = False, inner: str = "") -> str:
        t = f"<hp:t>{escape(text)}</hp:t>" if text else ""
        pid = 0 if inner == "cell" else self._id()
        return (f'<hp:p id="{pid}" paraPrIDRef="{para_pr}" styleIDRef="0" pageBreak="{int(page_break)}" '
                f'columnBreak="0" merged="0"><hp:run charPrIDRef="{char_pr}">{t}</hp:run></hp:p>')

    def table(self, rows: Table, *, banner: bool = False) -> str:
        ncols = max(len(r) for r in rows)
        cw, ch = TEXT_W // ncols, 2400
        trs = []
        for r, row in enumerate(rows):
            tcs = []
            for c in range(ncols):
                text = row[c] if c < len(row) else ""
                char_pr = 4 if banner and r == 0 and "보도" in text else 3
                cell_p = "".join(self.para(ln, 1, char_pr, inner="cell") for ln in text.split("\n"))
                tcs.append(
                    '<hp:tc name="" header="0" hasMargin="0" protect="0" editable="0" dirty="0" borderFillIDRef="2">'
                    '<hp:subList id="" textDirection="HORIZONTAL" lineWrap="BREAK" vertAlign="CENTER" '
                    'linkListIDRef="0" linkListNextIDRef="0" textWidth="0" textHeight="0" hasTextRef="0" hasNumRef="0">'
                    f'{cell_p}</hp:subList><hp:cellAddr colAddr="{c}" rowAddr="{r}"/>'
                    f'<hp:cellSpan colSpan="1" rowSpan="1"/><hp:cellSz width="{cw}" height="{ch}"/>'
                    '<hp:cellMargin left="510" right="510" top="141" bottom="141"/></hp:tc>'
                )
            trs.append("<hp:tr>" + "".join(tcs) + "</hp:tr>")
        return (
            f'<hp:tbl id="{self._id()}" zOrder="0" numberingType="TABLE" textWrap="TOP_AND_BOTTOM" '
            'textFlow="BOTH_SIDES" lock="0" dropcapstyle="None" pageBreak="CELL" repeatHeader="0" '
            f'rowCnt="{len(rows)}" colCnt="{ncols}" cellSpacing="0" borderFillIDRef="2" noAdjust="0">'
            f'<hp:sz width="{cw * ncols}" widthRelTo="ABSOLUTE" height="{ch * len(rows)}" heightRelTo="ABSOLUTE" protect="0"/>'
            '<hp:pos treatAsChar="1" affectLSpacing="0" flowWithText="1" allowOverlap="0" holdAnchorAndSO="0" '
            'vertRelTo="PARA" horzRelTo="COLUMN" vertAlign="TOP" horzAlign="LEFT" vertOffset="0" horzOffset="0"/>'
            '<hp:outMargin left="283" right="283" top="283" bottom="283"/>'
            '<hp:inMargin left="510" right="510" top="141" bottom="141"/>' + "".join(trs) + "</hp:tbl>"
        )

    def section(self, rel: Release) -> str:
        parts = [
            f'<hp:p id="{self._id()}" paraPrIDRef="0" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">'
            f'<hp:run charPrIDRef="0">{SEC_PR}{self.table(rel.banner, banner=True)}<hp:t/></hp:run></hp:p>',
            f'<hp:p id="{self._id()}" paraPrIDRef="0" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">'
            f'<hp:run charPrIDRef="0">{self.table(rel.header)}<hp:t/></hp:run></hp:p>',
            f'<hp:p id="{self._id()}" paraPrIDRef="0" styleIDRef="0" pageBreak="0" columnBreak="0" merged="0">'
            f'<hp:run charPrIDRef="0">{self.table(rel.title_box)}<hp:t/></hp:run></hp:p>',
        ]
        pending_break = False
        for item in [*rel.body, rel.contacts, *rel.attachments]:
            if isinstance(item, PageBreak):
                pending_break = True
            elif isinstance(item, str):
                parts.append(self.para(item, *_style_of(item), page_break=pending_break))
                pending_break = False
            else:
                parts.append(
                    f'<hp:p id="{self._id()}" paraPrIDRef="0" styleIDRef="0" pageBreak="{int(pending_break)}" '
                    f'columnBreak="0" merged="0"><hp:run charPrIDRef="0">{self.table(item)}<hp:t/></hp:run></hp:p>'
                )
                pending_break = False
        return f"{DECL}<hs:sec {XMLNS}>" + "".join(parts) + "</hs:sec>"


def preview_text(rel: Release, limit: int = 1024) -> str:
    lines = []
    for item in rel.items():
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, list):
            lines.extend("".join(f"<{c}>" for c in row) for row in item)
    return "\r\n".join(lines)[:limit]


def build_hwpx(rel: Release, path: Path) -> None:
    created = "2026-01-01T09:00:00Z"
    content_hpf = (
        f'{DECL}<opf:package {XMLNS} version="" unique-identifier="" id=""><opf:metadata>'
        f"<opf:title>{escape(rel.title)}</opf:title><opf:language>ko</opf:language>"
        f'<opf:meta name="creator" content="text">{escape(rel.ministry)}</opf:meta>'
        f'<opf:meta name="subject" content="text">보도자료</opf:meta>'
        f'<opf:meta name="CreatedDate" content="text">{created}</opf:meta>'
        f'<opf:meta name="ModifiedDate" content="text">{created}</opf:meta></opf:metadata>'
        '<opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>'
        '<opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>'
        '<opf:item id="settings" href="settings.xml" media-type="application/xml"/>'
        '<opf:item id="version" href="version.xml" media-type="application/xml"/></opf:manifest>'
        '<opf:spine><opf:itemref idref="header" linear="yes"/><opf:itemref idref="section0" linear="yes"/>'
        "</opf:spine></opf:package>"
    )
    container = (
        f'{DECL}<ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container" '
        f'xmlns:hpf={quoteattr(NS["hpf"])}><ocf:rootfiles>'
        '<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>'
        '<ocf:rootfile full-path="Preview/PrvText.txt" media-type="text/plain"/></ocf:rootfiles></ocf:container>'
    )
    version = (
        f'{DECL}<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" tagetApplication="WORDPROCESSOR" '
        'major="5" minor="1" micro="0" buildNumber="0" os="1" xmlVersion="1.4" application="Dasan make_examples" '
        'appVersion="1.0"/>'
    )
    settings = (f'{DECL}<ha:HWPApplicationSetting xmlns:ha="{NS["ha"]}" '
                'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0">'
                '<ha:CaretPosition listIDRef="0" paraIDRef="0" pos="0"/></ha:HWPApplicationSetting>')
    manifest = f'{DECL}<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'
    entries = [
        ("mimetype", "application/hwp+zip", zipfile.ZIP_STORED),
        ("version.xml", version, zipfile.ZIP_DEFLATED),
        ("Contents/header.xml", hwpx_header(), zipfile.ZIP_DEFLATED),
        ("Contents/section0.xml", HwpxBuilder().section(rel), zipfile.ZIP_DEFLATED),
        ("Contents/content.hpf", content_hpf, zipfile.ZIP_DEFLATED),
        ("Preview/PrvText.txt", preview_text(rel), zipfile.ZIP_DEFLATED),
        ("settings.xml", settings, zipfile.ZIP_DEFLATED),
        ("META-INF/container.xml", container, zipfile.ZIP_DEFLATED),
        ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
    ]
    with zipfile.ZipFile(path, "w") as zf:
        for name, text, method in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = method
            info.create_system = 0
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------- HWP


def build_hwp(rel: Release, path: Path) -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dasan.ingest.hwp_writer import write_hwp

    blocks: list[str | Table] = [b for b in rel.items() if not isinstance(b, PageBreak)]  # type: ignore[misc]
    write_hwp(path, blocks, title=rel.title, compress=True)


# ---------------------------------------------------------------------------------------- PDF


def build_pdf(rel: Release, path: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # subsetting chatter about TSI tables

    pdf = FPDF(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("Nanum", "", str(FONT_DIR / "NanumGothic.ttf"))
    pdf.add_font("Nanum", "B", str(FONT_DIR / "NanumGothicBold.ttf"))
    pdf.set_title(rel.title)
    pdf.set_author(rel.ministry)
    pdf.set_subject("보도자료")
    pdf.set_creator("Dasan scripts/make_examples.py")
    pdf.set_producer("Dasan scripts/make_examples.py")
    pdf.set_creation_date(dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC))
    pdf.set_lang("ko")
    pdf.add_page()

    def table(rows: Table, *, banner: bool = False) -> None:
        pdf.set_font("Nanum", "", 9)
        ncols = max(len(r) for r in rows)
        widths = [max([4] + [len(r[c]) for r in rows if c < len(r)]) for c in range(ncols)]
        with pdf.table(col_widths=tuple(widths), text_align="CENTER", line_height=6,
                       first_row_as_headings=False) as t:
            for i, row in enumerate(rows):
                r = t.row()
                for c in range(ncols):
                    text = row[c] if c < len(row) else ""
                    if banner and i == 0 and c == 0:
                        pdf.set_font("Nanum", "B", 16)
                        r.cell(text)
                        pdf.set_font("Nanum", "", 9)
                    else:
                        r.cell(text)
        pdf.ln(3)

    def line(text: str, *, size: float = 10.5, style: str = "", align: str = "L", indent: float = 0) -> None:
        pdf.set_font("Nanum", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, size * 0.62, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.2)

    table(rel.banner, banner=True)
    table(rel.header)
    line(rel.title, size=16, style="B", align="C")
    for s in rel.subtitles:
        line(s, size=11, align="C")
    pdf.ln(2)
    indents = {2: 4.0, 3: 8.0, 4: 12.0}
    for item in [*rel.body, rel.contacts, *rel.attachments]:
        if isinstance(item, PageBreak):
            pdf.add_page()
        elif isinstance(item, str):
            para_pr, _ = _style_of(item)
            size = 9.5 if para_pr == 4 else 10.5
            line(item.strip(), size=size, indent=indents.get(para_pr, 0.0))
        else:
            pdf.ln(2)
            table(item)
    pdf.output(str(path))


# --------------------------------------------------------------------------------------- main

BUILDERS = {".hwpx": build_hwpx, ".hwp": build_hwp, ".pdf": build_pdf}


def build_all(out_dir: Path) -> tuple[list[Path], list[str]]:
    """Build every source into ``out_dir``; returns (written files, failure messages)."""
    written, failed = [], []
    for src in sorted(SOURCES.glob("*.yaml")):
        rel = load_release(src)
        target = out_dir / rel.output
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            BUILDERS[target.suffix](rel, target)
        except ImportError as e:  # e.g. the HWP writer or fpdf2 is not installed
            failed.append(f"{rel.output}: cannot build ({e})")
            continue
        written.append(target)
    return written, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=EXAMPLES, help="output directory (default: examples/)")
    ap.add_argument("--check", action="store_true", help="rebuild in a temporary directory and compare")
    args = ap.parse_args(argv)
    if not args.check:
        written, failed = build_all(args.out)
        for p in written:
            print(f"{p.stat().st_size:>8}  {p.relative_to(args.out)}")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            written, failed = build_all(Path(tmp))
            for p in written:
                rel_path = p.relative_to(tmp)
                committed = EXAMPLES / rel_path
                if not committed.exists() or committed.read_bytes() != p.read_bytes():
                    failed.append(f"out of date: examples/{rel_path}")
            if not failed:
                print(f"{len(written)} files up to date")
    for msg in failed:
        print(msg, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
