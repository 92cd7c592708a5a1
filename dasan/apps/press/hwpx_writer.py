"""OWPML (HWPX) writer for a government press release (보도자료) in the ministries' layout.

The layout follows the releases ministries publish (see ``../shared/data/press-moe``):

1. a banner table: the ministry (where the logo sits) and ``보도자료``;
2. a borderless header table: ``배포 | 2026. 2. 27.(금) 15:00 | | 보도시점 | (인터넷) …`` with
   the print time ``(지  면) 2026. 3. 3.(화) 조간`` in a second row of the last column;
3. a one-column title table: the headline in the first row, the subtitles (``- … -`` lines) and
   【관련 국정과제】 tags in the second;
4. lead paragraphs and bullets ``□`` → ``○`` → ``-`` → ``·`` with ``※``/``*`` notes, hanging
   indents by depth;
5. the ``붙임`` list;
6. the contact table: ``담당 부서 | <실·국> | 책임자 | 과  장 | 이름 | (044-203-6000)`` with the
   과 and further ``담당자`` rows below, one block of rows per department.

The OWPML primitives (:class:`Para`, :class:`Cell`, :class:`Table`, :class:`SectionWriter`,
:func:`header_xml`, :func:`sec_pr`, :func:`package`) are generic; ``scripts/make_examples.py``
builds the sample corpus's HWPX with them too. Output is deterministic: fixed zip timestamps, and the creation
date in the package metadata is the one passed in.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

NS = {
    "ha": "http://www.hancom.co.kr/hwpml/2011/app",
    "hp": "http://www.hancom.co.kr/hwpml/2011/paragraph",
    "hp10": "http://www.hancom.co.kr/hwpml/2016/paragraph",
    "hs": "http://www.hancom.co.kr/hwpml/2011/section",
    "hc": "http://www.hancom.co.kr/hwpml/2011/core",
    "hh": "http://www.hancom.co.kr/hwpml/2011/head",
    "hhs": "http://www.hancom.co.kr/hwpml/2011/history",
    "hm": "http://www.hancom.co.kr/hwpml/2011/master-page",
    "hpf": "http://www.hancom.co.kr/schema/2011/hpf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "opf": "http://www.idpf.org/2007/opf/",
    "ooxmlchart": "http://www.hancom.co.kr/hwpml/2016/ooxmlchart",
    "hwpunitchar": "http://www.hancom.co.kr/hwpml/2016/HwpUnitChar",
    "epub": "http://www.idpf.org/2007/ops",
    "config": "urn:oasis:names:tc:opendocument:xmlns:config:1.0",
}
XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
LANGS = ("HANGUL", "LATIN", "HANJA", "JAPANESE", "OTHER", "SYMBOL", "USER")
FONTS = ("함초롬바탕", "함초롬돋움")  # font ids 0 (body) and 1 (titles, tables)
ZIP_TIME = (2026, 1, 1, 9, 0, 0)
MIMETYPE = "application/hwp+zip"

# A4 portrait, 2 cm side margins (HWPUNIT: 1/7200 inch; 1 pt = 100).
PAGE_W, PAGE_H, MARGIN_LR = 59528, 84186, 5669
TEXT_W = PAGE_W - 2 * MARGIN_LR


@dataclass(frozen=True)
class CharStyle:
    height: int  # 1/100 pt
    bold: bool = False
    font: int = 0
    color: str = "#000000"


@dataclass(frozen=True)
class ParaStyle:
    align: str = "JUSTIFY"
    left: int = 0
    intent: int = 0  # negative: hanging indent (lines after the first start |intent| further right)
    prev: int = 0  # space before
    line: int = 160  # line spacing, percent


#: Character styles; the position in the dict is the charPr id.
CHAR_STYLES: dict[str, CharStyle] = {
    "body": CharStyle(1500),
    "headline": CharStyle(2200, bold=True, font=1),
    "subtitle": CharStyle(1400, font=1),
    "cell": CharStyle(1100, font=1),
    "cell_bold": CharStyle(1100, bold=True, font=1),
    "banner": CharStyle(3000, bold=True, font=1, color="#1F3A93"),
    "ministry": CharStyle(1600, bold=True, font=1),
    "note": CharStyle(1300, font=1),
    "bullet_head": CharStyle(1500, bold=True),
}

#: Paragraph styles; the position in the dict is the paraPr id.
PARA_STYLES: dict[str, ParaStyle] = {
    "body": ParaStyle(),
    "center": ParaStyle("CENTER", line=130),
    "cell_left": ParaStyle("LEFT", line=130),
    "lead": ParaStyle(intent=1500, prev=600),
    "depth0": ParaStyle(intent=-2250, prev=900),
    "depth1": ParaStyle(left=1000, intent=-2250, prev=300),
    "depth2": ParaStyle(left=2500, intent=-1500),
    "depth3": ParaStyle(left=3500, intent=-1500),
    "note": ParaStyle(left=2500, intent=-1950),
    "attach": ParaStyle(prev=900, intent=-4200),
}

#: Border/fill definitions: (line type, background or None); ids start at 1.
BORDER_FILLS: dict[str, tuple[str, str | None]] = {
    "none": ("NONE", None),
    "grid": ("SOLID", None),
    "label": ("SOLID", "#E8ECF4"),
}


def char_id(name: str) -> int:
    return list(CHAR_STYLES).index(name)


def para_id(name: str) -> int:
    return list(PARA_STYLES).index(name)


def fill_id(name: str) -> int:
    return list(BORDER_FILLS).index(name) + 1


# --------------------------------------------------------------------------- header.xml
def _langs(value: str | int) -> str:
    return " ".join(f'{lang.lower()}="{value}"' for lang in LANGS)


def _border_fill(fid: int, line: str, fill: str | None) -> str:
    sides = "".join(
        f'<hh:{s}Border type="{line}" width="0.12 mm" color="#000000"/>' for s in ("left", "right", "top", "bottom")
    )
    brush = (f'<hc:fillBrush><hc:winBrush faceColor="{fill}" hatchColor="#000000" alpha="0"/></hc:fillBrush>'
             if fill else "")
    return (f'<hh:borderFill id="{fid}" threeD="0" shadow="0" centerLine="NONE" breakCellSeparateLine="0">'
            '<hh:slash type="NONE" Crooked="0" isCounter="0"/><hh:backSlash type="NONE" Crooked="0" isCounter="0"/>'
            f'{sides}<hh:diagonal type="SOLID" width="0.1 mm" color="#000000"/>{brush}</hh:borderFill>')


def _char_pr(i: int, s: CharStyle) -> str:
    return (
        f'<hh:charPr id="{i}" height="{s.height}" textColor="{s.color}" shadeColor="none" useFontSpace="0" '
        f'useKerning="0" symMark="NONE" borderFillIDRef="1"><hh:fontRef {_langs(s.font)}/>'
        f'<hh:ratio {_langs(100)}/><hh:spacing {_langs(0)}/><hh:relSz {_langs(100)}/><hh:offset {_langs(0)}/>'
        f'{"<hh:bold/>" if s.bold else ""}<hh:underline type="NONE" shape="SOLID" color="#000000"/>'
        '<hh:strikeout shape="NONE" color="#000000"/><hh:outline type="NONE"/>'
        '<hh:shadow type="NONE" color="#C0C0C0" offsetX="10" offsetY="10"/></hh:charPr>'
    )


def _para_pr(i: int, s: ParaStyle) -> str:
    return (
        f'<hh:paraPr id="{i}" tabPrIDRef="0" condense="0" fontLineHeight="0" snapToGrid="1" '
        f'suppressLineNumbers="0" checked="0"><hh:align horizontal="{s.align}" vertical="BASELINE"/>'
        '<hh:heading type="NONE" idRef="0" level="0"/><hh:breakSetting breakLatinWord="KEEP_WORD" '
        'breakNonLatinWord="KEEP_WORD" widowOrphan="0" keepWithNext="0" keepLines="0" pageBreakBefore="0" '
        'lineWrap="BREAK"/><hh:autoSpacing eAsianEng="0" eAsianNum="0"/><hh:margin>'
        f'<hc:intent value="{s.intent}" unit="HWPUNIT"/><hc:left value="{s.left}" unit="HWPUNIT"/>'
        f'<hc:right value="0" unit="HWPUNIT"/><hc:prev value="{s.prev}" unit="HWPUNIT"/>'
        '<hc:next value="0" unit="HWPUNIT"/></hh:margin>'
        f'<hh:lineSpacing type="PERCENT" value="{s.line}" unit="HWPUNIT"/>'
        '<hh:border borderFillIDRef="1" offsetLeft="0" offsetRight="0" offsetTop="0" offsetBottom="0" '
        'connect="0" ignoreMargin="0"/></hh:paraPr>'
    )


def header_xml(chars: Sequence[CharStyle] | None = None, paras: Sequence[ParaStyle] | None = None,
               fills: Sequence[tuple[str, str | None]] | None = None, fonts: Sequence[str] = FONTS) -> str:
    """``Contents/header.xml``: fonts, border fills, character and paragraph styles (default: the
    press layout's; the position in each sequence is the id the section refers to)."""
    chars = list(CHAR_STYLES.values()) if chars is None else chars
    paras = list(PARA_STYLES.values()) if paras is None else paras
    fills = list(BORDER_FILLS.values()) if fills is None else fills
    faces = "".join(f'<hh:font id="{i}" face="{f}" type="TTF" isEmbedded="0"/>' for i, f in enumerate(fonts))
    fontfaces = "".join(f'<hh:fontface lang="{lang}" fontCnt="{len(fonts)}">{faces}</hh:fontface>' for lang in LANGS)
    fill_xml = "".join(_border_fill(i + 1, line, bg) for i, (line, bg) in enumerate(fills))
    char_xml = "".join(_char_pr(i, c) for i, c in enumerate(chars))
    para_xml = "".join(_para_pr(i, p) for i, p in enumerate(paras))
    return (
        f'{DECL}<hh:head {XMLNS} version="1.4" secCnt="1">'
        '<hh:beginNum page="1" footnote="1" endnote="1" pic="1" tbl="1" equation="1"/><hh:refList>'
        f'<hh:fontfaces itemCnt="{len(LANGS)}">{fontfaces}</hh:fontfaces>'
        f'<hh:borderFills itemCnt="{len(fills)}">{fill_xml}</hh:borderFills>'
        f'<hh:charProperties itemCnt="{len(chars)}">{char_xml}</hh:charProperties>'
        '<hh:tabProperties itemCnt="1"><hh:tabPr id="0" autoTabLeft="0" autoTabRight="0"/></hh:tabProperties>'
        f'<hh:paraProperties itemCnt="{len(paras)}">{para_xml}</hh:paraProperties>'
        '<hh:styles itemCnt="1"><hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="0" '
        'charPrIDRef="0" nextStyleIDRef="0" langID="1042" lockForm="0"/></hh:styles>'
        '</hh:refList><hh:compatibleDocument targetProgram="HWP201X"><hh:layoutCompatibility/>'
        '</hh:compatibleDocument><hh:docOption><hh:linkinfo path="" pageInherit="0" footnoteInherit="0"/>'
        '</hh:docOption></hh:head>'
    )


def sec_pr(page_w: int = PAGE_W, page_h: int = PAGE_H, margin_lr: int = MARGIN_LR) -> str:
    """The section's page setup (A4 portrait by default) and its single column."""
    return (
        '<hp:secPr id="" textDirection="HORIZONTAL" spaceColumns="1134" tabStop="8000" tabStopVal="4000" '
        'tabStopUnit="HWPUNIT" outlineShapeIDRef="0" memoShapeIDRef="0" textVerticalWidthHead="0" masterPageCnt="0">'
        '<hp:grid lineGrid="0" charGrid="0" wonggojiFormat="0"/>'
        '<hp:startNum pageStartsOn="BOTH" page="0" pic="0" tbl="0" equation="0"/>'
        '<hp:visibility hideFirstHeader="0" hideFirstFooter="0" hideFirstMasterPage="0" border="SHOW_ALL" '
        'fill="SHOW_ALL" hideFirstPageNum="0" hideFirstEmptyLine="0" showLineNumber="0"/>'
        '<hp:lineNumberShape restartType="0" countBy="0" distance="0" startNumber="0"/>'
        f'<hp:pagePr landscape="WIDELY" width="{page_w}" height="{page_h}" gutterType="LEFT_ONLY">'
        f'<hp:margin header="4252" footer="4252" gutter="0" left="{margin_lr}" right="{margin_lr}" top="5668" '
        'bottom="4252"/></hp:pagePr></hp:secPr>'
        '<hp:ctrl><hp:colPr id="" type="NEWSPAPER" layout="LEFT" colCount="1" sameSz="1" sameGap="0"/></hp:ctrl>'
    )


SEC_PR = sec_pr()


# --------------------------------------------------------------------------- section primitives
@dataclass
class Para:
    """One paragraph: its text and named styles (see :data:`CHAR_STYLES`, :data:`PARA_STYLES`)."""

    text: str
    char: str = "body"
    para: str = "body"
    page_break: bool = False


@dataclass
class Cell:
    paras: list[Para]
    row: int
    col: int
    row_span: int = 1
    col_span: int = 1
    fill: str = "grid"
    name: str = ""  # Hangul's cell field name (기관명, 배포일시, 보도일시, 제목명, 부제목명)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paras)


@dataclass
class Table:
    widths: list[int]  # per column, HWPUNIT
    heights: list[int]  # per row, HWPUNIT (a minimum: Hangul grows rows to fit)
    cells: list[Cell]
    fill: str = "grid"

    def rows_text(self) -> list[list[str]]:
        grid = [[""] * len(self.widths) for _ in self.heights]
        for c in self.cells:
            grid[c.row][c.col] = c.text
        return grid


Item = Para | Table


def scaled(widths: Sequence[int], total: int = TEXT_W) -> list[int]:
    """Column widths scaled to ``total`` (the last column takes the rounding remainder)."""
    s = sum(widths)
    out = [w * total // s for w in widths]
    out[-1] += total - sum(out)
    return out


class SectionWriter:
    """Writes ``Contents/section0.xml`` from paragraphs and tables in reading order."""

    def __init__(self) -> None:
        self._next = 0

    def _id(self) -> int:
        self._next += 1
        return self._next

    def para_xml(self, p: Para, *, in_cell: bool = False) -> str:
        t = f"<hp:t>{escape(p.text)}</hp:t>" if p.text else ""
        pid = 2147483648 if in_cell else self._id()  # Hangul writes this id for cell paragraphs
        return (f'<hp:p id="{pid}" paraPrIDRef="{para_id(p.para)}" styleIDRef="0" pageBreak="{int(p.page_break)}" '
                f'columnBreak="0" merged="0"><hp:run charPrIDRef="{char_id(p.char)}">{t}</hp:run></hp:p>')

    def table_xml(self, t: Table) -> str:
        by_row: dict[int, list[Cell]] = {}
        for c in sorted(t.cells, key=lambda c: (c.row, c.col)):
            by_row.setdefault(c.row, []).append(c)
        trs = []
        for r in range(len(t.heights)):
            tcs = []
            for c in by_row.get(r, []):
                width = sum(t.widths[c.col:c.col + c.col_span])
                height = sum(t.heights[c.row:c.row + c.row_span])
                paras = "".join(self.para_xml(p, in_cell=True) for p in c.paras or [Para("", "cell", "center")])
                tcs.append(
                    f'<hp:tc name={quoteattr(c.name)} header="0" hasMargin="0" protect="0" editable="0" dirty="0" '
                    f'borderFillIDRef="{fill_id(c.fill)}">'
                    '<hp:subList id="" textDirection="HORIZONTAL" lineWrap="BREAK" vertAlign="CENTER" '
                    'linkListIDRef="0" linkListNextIDRef="0" textWidth="0" textHeight="0" hasTextRef="0" '
                    f'hasNumRef="0">{paras}</hp:subList><hp:cellAddr colAddr="{c.col}" rowAddr="{c.row}"/>'
                    f'<hp:cellSpan colSpan="{c.col_span}" rowSpan="{c.row_span}"/>'
                    f'<hp:cellSz width="{width}" height="{height}"/>'
                    '<hp:cellMargin left="510" right="510" top="141" bottom="141"/></hp:tc>'
                )
            trs.append("<hp:tr>" + "".join(tcs) + "</hp:tr>")
        return (
            f'<hp:tbl id="{self._id()}" zOrder="0" numberingType="TABLE" textWrap="TOP_AND_BOTTOM" '
            'textFlow="BOTH_SIDES" lock="0" dropcapstyle="None" pageBreak="CELL" repeatHeader="0" '
            f'rowCnt="{len(t.heights)}" colCnt="{len(t.widths)}" cellSpacing="0" '
            f'borderFillIDRef="{fill_id(t.fill)}" noAdjust="0">'
            f'<hp:sz width="{sum(t.widths)}" widthRelTo="ABSOLUTE" height="{sum(t.heights)}" '
            'heightRelTo="ABSOLUTE" protect="0"/>'
            '<hp:pos treatAsChar="1" affectLSpacing="0" flowWithText="1" allowOverlap="0" holdAnchorAndSO="0" '
            'vertRelTo="PARA" horzRelTo="COLUMN" vertAlign="TOP" horzAlign="LEFT" vertOffset="0" horzOffset="0"/>'
            '<hp:outMargin left="283" right="283" top="283" bottom="283"/>'
            '<hp:inMargin left="510" right="510" top="141" bottom="141"/>' + "".join(trs) + "</hp:tbl>"
        )

    def _holder(self, inner: str, *, page_break: bool = False, para: str = "body") -> str:
        return (f'<hp:p id="{self._id()}" paraPrIDRef="{para_id(para)}" styleIDRef="0" '
                f'pageBreak="{int(page_break)}" columnBreak="0" merged="0">'
                f'<hp:run charPrIDRef="0">{inner}<hp:t/></hp:run></hp:p>')

    def section(self, items: Sequence[Item]) -> str:
        """The section XML. The first paragraph carries the page setup (``secPr``)."""
        parts: list[str] = []
        for i, item in enumerate(items):
            lead = SEC_PR if i == 0 else ""
            if isinstance(item, Table):
                parts.append(self._holder(lead + self.table_xml(item), para="center"))
            elif i == 0:
                parts.append(self._holder(lead) + self.para_xml(item))
            else:
                parts.append(self.para_xml(item))
        if not parts:
            parts.append(self._holder(SEC_PR))
        return f"{DECL}<hs:sec {XMLNS}>" + "".join(parts) + "</hs:sec>"


def preview_text(items: Sequence[Item], limit: int = 1024) -> str:
    """``Preview/PrvText.txt`` as Hangul writes it: table cells as ``<text>``, CRLF lines."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, Para):
            lines.append(item.text)
        else:
            lines.extend("".join(f"<{c.replace(chr(10), ' ')}>" for c in row if c) for row in item.rows_text())
    return "\r\n".join(lines)[:limit]


def package(section: str, *, title: str, creator: str, preview: str, created: str,
            subject: str = "보도자료", header: str | None = None, application: str = "Dasan press draft") -> bytes:
    """The HWPX zip: ``mimetype`` first and stored, then the XML parts (fixed timestamps).
    ``header``: the ``header.xml`` text (default: the press layout's :func:`header_xml`)."""
    content_hpf = (
        f'{DECL}<opf:package {XMLNS} version="" unique-identifier="" id=""><opf:metadata>'
        f"<opf:title>{escape(title)}</opf:title><opf:language>ko</opf:language>"
        f'<opf:meta name="creator" content="text">{escape(creator)}</opf:meta>'
        f'<opf:meta name="subject" content="text">{escape(subject)}</opf:meta>'
        f'<opf:meta name="CreatedDate" content="text">{escape(created)}</opf:meta>'
        f'<opf:meta name="ModifiedDate" content="text">{escape(created)}</opf:meta></opf:metadata>'
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
        f'{DECL}<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" '
        'tagetApplication="WORDPROCESSOR" major="5" minor="1" micro="0" buildNumber="0" os="1" xmlVersion="1.4" '
        f'application="{escape(application)}" appVersion="1.0"/>'
    )
    settings = (f'{DECL}<ha:HWPApplicationSetting xmlns:ha="{NS["ha"]}" '
                'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0">'
                '<ha:CaretPosition listIDRef="0" paraIDRef="0" pos="0"/></ha:HWPApplicationSetting>')
    manifest = f'{DECL}<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'
    entries = [
        ("mimetype", MIMETYPE, zipfile.ZIP_STORED),
        ("version.xml", version, zipfile.ZIP_DEFLATED),
        ("Contents/header.xml", header_xml() if header is None else header, zipfile.ZIP_DEFLATED),
        ("Contents/section0.xml", section, zipfile.ZIP_DEFLATED),
        ("Contents/content.hpf", content_hpf, zipfile.ZIP_DEFLATED),
        ("Preview/PrvText.txt", preview, zipfile.ZIP_DEFLATED),
        ("settings.xml", settings, zipfile.ZIP_DEFLATED),
        ("META-INF/container.xml", container, zipfile.ZIP_DEFLATED),
        ("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text, method in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = method
            info.create_system = 0
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


# --------------------------------------------------------------------------- press layout
BULLET_MARKERS = ("□", "○", "-", "·")  # by depth
NOTE_MARKERS = ("※", "*")


@dataclass
class ContactPerson:
    role: str  # 책임자 | 담당자
    position: str  # 과장, 사무관, 주무관 …
    name: str
    phone: str  # 044-203-6000


@dataclass
class ContactGroup:
    """The rows of one department in the contact table."""

    bureau: str | None  # 실·국 (may be absent)
    department: str  # 과
    people: list[ContactPerson]
    label: str = "담당 부서"


@dataclass
class BodyLine:
    """A body line: ``marker`` ``""`` is a plain paragraph, else a bullet at ``depth``."""

    text: str
    marker: str = ""
    depth: int = 0

    @property
    def rendered(self) -> str:
        return f"{self.marker} {self.text}" if self.marker else self.text


@dataclass
class PressLayout:
    """Everything a press release shows, already worded (dates formatted, markers chosen)."""

    ministry: str
    distributed: str  # "2026. 2. 27.(금) 15:00"
    embargo: list[str]  # ["(인터넷) 2026. 3. 2.(월) 09:00", "(지  면) 2026. 3. 3.(화) 조간"] or ["배포 즉시 보도"]
    headline: str
    subtitles: list[str] = field(default_factory=list)  # without the "- … -" decoration
    agenda: list[str] = field(default_factory=list)  # 【관련 국정과제】 lines
    lead: list[str] = field(default_factory=list)
    body: list[BodyLine] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    contacts: list[ContactGroup] = field(default_factory=list)
    created: str = "2026-01-01T00:00:00Z"  # package metadata (ISO, UTC)


def spaced_position(position: str) -> str:
    """Two-syllable titles are spaced in the table as ministries print them: 과장 → ``과  장``."""
    return f"{position[0]}  {position[1]}" if len(position) == 2 else position


def attachment_lines(titles: Sequence[str]) -> list[str]:
    """``붙임  제목`` for one attachment; ``붙임  1. 제목`` and ``      2. 제목`` for several."""
    if len(titles) == 1:
        return [f"붙임  {titles[0]}"]
    return [f"{'붙임  ' if i == 1 else '      '}{i}. {t}" for i, t in enumerate(titles, 1)]


def _banner(layout: PressLayout) -> Table:
    cells = [
        Cell([Para(layout.ministry, "ministry", "center")], 0, 0, fill="none", name="기관명"),
        Cell([Para("보도자료", "banner", "center")], 0, 1, fill="none"),
    ]
    return Table(scaled([13352, 34345]), [2994], cells, fill="none")


def _dates(layout: PressLayout) -> Table:
    lines = layout.embargo or [""]
    n = len(lines)
    label = "cell_bold"
    cells = [
        Cell([Para("배포", label, "center")], 0, 0, row_span=n, fill="none"),
        Cell([Para(layout.distributed, "cell", "center")], 0, 1, row_span=n, fill="none", name="배포일시"),
        Cell([], 0, 2, row_span=n, fill="none"),
        Cell([Para("보도시점", label, "center")], 0, 3, row_span=n, fill="none"),
    ]
    cells += [Cell([Para(t, "cell", "cell_left")], r, 4, fill="none", name="보도일시" if r == 0 else "")
              for r, t in enumerate(lines)]
    return Table(scaled([3817, 12512, 4022, 4821, 17148]), [1750] * n, cells, fill="none")


def _title(layout: PressLayout) -> Table:
    heads = [Para(line, "headline", "center") for line in layout.headline.splitlines() if line.strip()]
    cells = [Cell(heads, 0, 0, name="제목명")]
    subs = [Para(f"- {s} -", "subtitle", "cell_left") for s in layout.subtitles]
    subs += [Para(a, "subtitle", "cell_left") for a in layout.agenda]
    if subs:
        cells.append(Cell(subs, 1, 0, name="부제목명"))
    return Table([TEXT_W], [4000] + ([3000] if subs else []), cells)


def _contacts(groups: Sequence[ContactGroup]) -> Table:
    cells: list[Cell] = []
    row = 0
    for g in groups:
        n = len(g.people)
        if n == 0:
            continue
        cells.append(Cell([Para(g.label, "cell_bold", "center")], row, 0, row_span=n, fill="label"))
        if n == 1 or not g.bureau:
            unit = " ".join(x for x in (g.bureau, g.department) if x)
            cells.append(Cell([Para(unit, "cell", "center")], row, 1, row_span=n))
        else:
            cells.append(Cell([Para(g.bureau, "cell", "center")], row, 1))
            cells.append(Cell([Para(g.department, "cell", "center")], row + 1, 1, row_span=n - 1))
        for k, p in enumerate(g.people):
            r = row + k
            cells += [
                Cell([Para(p.role, "cell_bold", "center")], r, 2, fill="label"),
                Cell([Para(spaced_position(p.position), "cell", "center")], r, 3),
                Cell([Para(p.name, "cell", "center")], r, 4),
                Cell([Para(f"({p.phone})", "cell", "center")], r, 5),
            ]
        row += n
    return Table(scaled([6236, 15167, 6081, 5605, 5605, 9003]), [1565] * row, cells)


_DEPTH_STYLE = ("depth0", "depth1", "depth2", "depth3")


def _body_para(line: BodyLine) -> Para:
    if not line.marker:
        return Para(line.text, "body", "lead")
    if line.marker in NOTE_MARKERS:
        return Para(line.rendered, "note", "note")
    style = _DEPTH_STYLE[min(line.depth, len(_DEPTH_STYLE) - 1)]
    return Para(line.rendered, "body", style)


def press_items(layout: PressLayout) -> list[Item]:
    """The release in reading order, as paragraphs and tables."""
    items: list[Item] = [_banner(layout), _dates(layout), _title(layout)]
    items += [Para(t, "body", "lead") for t in layout.lead]
    items += [_body_para(b) for b in layout.body]
    if layout.attachments:
        items += [Para(t, "body", "attach" if i == 0 else "body")
                  for i, t in enumerate(attachment_lines(layout.attachments))]
    if any(g.people for g in layout.contacts):
        items.append(Para("", "body", "body"))
        items.append(_contacts(layout.contacts))
    return items


def build_press_hwpx(layout: PressLayout) -> bytes:
    """The HWPX file of a press release, as bytes."""
    items = press_items(layout)
    section = SectionWriter().section(items)
    return package(section, title=layout.headline.replace("\n", " "), creator=layout.ministry,
                   preview=preview_text(items), created=layout.created)


def write_press_hwpx(layout: PressLayout, path: str | Path) -> Path:
    """Write the release to ``path`` (through a temporary file, so a failure leaves no half file)."""
    target = Path(path)
    data = build_press_hwpx(layout)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
