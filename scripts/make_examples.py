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
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
SOURCES = Path(__file__).resolve().parent / "example_sources"
EXAMPLES = REPO / "examples"
FONT_DIR = Path("/usr/share/fonts/truetype/nanum")

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

# OWPML header and page setup: the press desk's HWPX writer with this corpus's own styles.
from dasan.apps.press.hwpx_writer import DECL, XMLNS, CharStyle, ParaStyle, header_xml, package, sec_pr  # noqa: E402

PAGE_W, PAGE_H, MARGIN_LR = 59528, 84186, 8504
TEXT_W = PAGE_W - 2 * MARGIN_LR
# charPr ids: 0 body, 1 title, 2 subtitle, 3 table text, 4 banner ("보도자료")
CHAR_PRS = [(1200, False), (2000, True), (1300, False), (1000, False), (2200, True)]
# paraPr ids: 0 justify, 1 centre, 2-4 indented by bullet depth
PARA_PRS = [("JUSTIFY", 0), ("CENTER", 0), ("JUSTIFY", 1000), ("JUSTIFY", 2000), ("JUSTIFY", 3000)]


def hwpx_header() -> str:
    return header_xml([CharStyle(h, bold) for h, bold in CHAR_PRS], [ParaStyle(align, left) for align, left in PARA_PRS],
                      [("NONE", None), ("SOLID", None)], fonts=("함초롬바탕",))


SEC_PR = sec_pr(PAGE_W, PAGE_H, MARGIN_LR)


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
    path.write_bytes(package(HwpxBuilder().section(rel), header=hwpx_header(), title=rel.title, creator=rel.ministry,
                             preview=preview_text(rel), created="2026-01-01T09:00:00Z",
                             application="Dasan make_examples"))


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
