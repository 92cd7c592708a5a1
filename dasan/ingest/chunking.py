"""Structure-aware chunking: statutes by article, press releases by □ bullet, records one by
one, everything else by heading-aware packing with Kiwi sentence boundaries.

Chunk ids are content-addressed: ``sha256(f"{document_id}\\0{ordinal}\\0{label}\\0{text}")[:32]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from dasan.errors import ConfigError, ParseError
from dasan.ingest.law import Article, Item, Paragraph, Statute, parse_statute
from dasan.ingest.press import Bullet, PressRelease, parse_press_release
from dasan.ingest.structure import block_text, detect_kind
from dasan.korean.sentences import kiwi_budget, pack_lines, pack_sentences, pack_text
from dasan.types import DEFAULT_LEVEL, LEVELS, Block, Chunk, Citation, Document

log = logging.getLogger(__name__)

MIN_MAX_CHARS = 100


def chunk_id(document_id: str, ordinal: int, label: str, text: str) -> str:
    raw = f"{document_id}\0{ordinal}\0{label}\0{text}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def doc_title(doc: Document) -> str:
    md = doc.metadata or {}
    for t in (md.get("제목"), md.get("title"), doc.title):
        if t and str(t).strip():
            return " ".join(str(t).split())
    return PurePath(doc.source).stem if doc.source else "문서"


@dataclass
class _Draft:
    text: str
    citation: Citation
    context: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def chunk_document(
    doc: Document, document_id: str, *, classification: str = DEFAULT_LEVEL, max_chars: int = 800
) -> list[Chunk]:
    """Split ``doc`` into chunks according to its kind (law, press, records, generic).

    ``doc.kind`` is used when a caller already set it to something other than ``generic``;
    otherwise :func:`detect_kind` decides and the result is stored on ``doc.kind``.
    """
    if max_chars < MIN_MAX_CHARS:
        raise ConfigError(f"청크 최대 길이(max_chars)는 {MIN_MAX_CHARS}자 이상이어야 합니다 (현재 {max_chars}).")
    if classification not in LEVELS:
        raise ConfigError(f"알 수 없는 보안 등급입니다: {classification} (가능한 값: {', '.join(LEVELS)})")
    with kiwi_budget():  # bounded Kiwi time per document, whatever its size or shape
        return _chunk(doc, document_id, classification, max_chars)


def _chunk(doc: Document, document_id: str, classification: str, max_chars: int) -> list[Chunk]:
    kind = doc.kind if doc.kind in ("law", "press", "records") else detect_kind(doc)
    drafts: list[_Draft] = []
    if kind == "law":
        try:
            drafts = _law_drafts(parse_statute(doc), max_chars)
        except ParseError as e:
            log.info("법령으로 해석하지 못해 일반 문서로 나눕니다: %s", e)
            kind = "generic"
    elif kind == "press":
        try:
            pr = parse_press_release(doc)
            drafts = _press_drafts(pr, max_chars, doc.metadata)
            doc.title = pr.title  # the headline, not the file's summary title ("3", "교육부")
        except ParseError as e:
            log.info("보도자료로 해석하지 못해 일반 문서로 나눕니다: %s", e)
            kind = "generic"
    elif kind == "records":
        drafts = _record_drafts(doc)
    if kind == "generic":
        drafts = _generic_drafts(doc, max_chars)
    doc.kind = kind
    chunks = []
    for i, d in enumerate(x for x in drafts if x.text.strip()):
        meta = {"kind": kind, **d.meta}
        chunks.append(
            Chunk(
                id=chunk_id(document_id, i, d.citation.label, d.text),
                document_id=document_id, ordinal=i, text=d.text, citation=d.citation,
                context=d.context, classification=classification, meta=meta,
            )
        )
    return chunks


# --------------------------------------------------------------------------- law
def _span(labels: list[str]) -> str | None:
    labels = [x for x in labels if x]
    if not labels:
        return None
    return labels[0] if len(labels) == 1 else f"{labels[0]}~{labels[-1]}"


def _item_text(it: Item) -> str:
    return "\n".join(it.lines())


def _split_paragraph(p: Paragraph, budget: int) -> list[tuple[str, str | None]]:
    """Split one overlong 항 at 호 boundaries (then 목, then sentences): ``(text, 호 span)``."""
    units: list[tuple[str, list[str]]] = []
    head = p.head()
    if head:
        units += [(t, []) for t in pack_text(head, budget)]
    for it in p.items:
        t = _item_text(it)
        if len(t) <= budget:
            units.append((t, [it.label]))
            continue
        first = f"{it.marker} {it.text}"
        units += [(x, [it.label]) for x in pack_text(first, budget)]
        for c in it.children:
            units += [(x, [it.label]) for x in pack_text(_item_text(c), budget)]
    out: list[tuple[str, str | None]] = []
    cur: list[str] = []
    cur_labels: list[str] = []
    for t, labels in units:
        if cur and len("\n".join([*cur, t])) > budget:
            out.append(("\n".join(cur), _span(list(dict.fromkeys(cur_labels)))))
            cur, cur_labels = [], []
        cur.append(t)
        cur_labels += labels
    if cur:
        out.append(("\n".join(cur), _span(list(dict.fromkeys(cur_labels)))))
    return out


def _article_pieces(a: Article, max_chars: int) -> list[tuple[str, str | None, str | None]]:
    """``(text, 항 label or None, extra span for the label)`` pieces of one article."""
    if len(a.text) <= max_chars:
        return [(a.text, None, None)]
    budget = max(MIN_MAX_CHARS // 2, max_chars - len(a.header) - 1)
    pieces: list[tuple[str, str | None, str | None]] = []
    group: list[Paragraph] = []

    def flush() -> None:
        if group:
            body = "\n".join(line for p in group for line in p.lines())
            labels = [p.label for p in group if p.label]
            para = group[0].label if len(group) == 1 else None
            span = None if len(group) == 1 else _span(labels)
            pieces.append((f"{a.header}\n{body}", para, span))
            group.clear()

    for p in a.paragraphs:
        ptext = "\n".join(p.lines())
        if len(ptext) > budget:
            flush()
            for text, item_span in _split_paragraph(p, budget):
                pieces.append((f"{a.header}\n{text}", p.label, item_span))
            continue
        if group and len("\n".join("\n".join(x.lines()) for x in [*group, p])) > budget:
            flush()
        group.append(p)
    flush()
    return pieces


def _law_drafts(st: Statute, max_chars: int) -> list[_Draft]:
    in_force = st.in_force()
    base = {
        "statute_kind": st.kind, "시행일자": st.effective, "공포일자": st.promulgated,
        "상태": st.status, "in_force": in_force, "소관부처": list(st.ministries),
    }
    drafts: list[_Draft] = []
    for a in st.articles:
        path = " > ".join(a.path) or None
        for text, para, span in _article_pieces(a, max_chars):
            label = st.cite(a.number, para)
            if span:
                label = f"{label} {span}"
            ctx = " > ".join(x for x in (st.title, path, a.header) if x)
            if para:
                ctx = f"{ctx} {para}"
            drafts.append(_Draft(
                text=text,
                citation=Citation(label=label, title=st.title, article=a.number, paragraph=para,
                                  page=a.page, section=path),
                context=ctx,
                meta={**base, "article_title": a.title, "notes": list(a.notes), "addendum": False,
                      **({"span": span} if span else {})},
            ))
    for ad in st.addenda:
        units: list[tuple[str, str | None, str | None]] = []
        body = "\n".join(line for p in ad.body for line in p.lines())
        if body:
            units += [(t, None, None) for t in pack_text(body, max_chars)]
        for a in ad.articles:
            units += [(t, a.number, a.title) for t, _, _ in _article_pieces(a, max_chars)]
        for text, number, title in units:
            label = " ".join(x for x in (st.title, "부칙", number) if x)
            drafts.append(_Draft(
                text=text,
                citation=Citation(label=label, title=st.title, article=f"부칙 {number}" if number else "부칙",
                                  section=ad.heading),
                context=" > ".join(x for x in (st.title, ad.heading) if x),
                meta={**base, "article_title": title, "addendum": True},
            ))
    return drafts


# --------------------------------------------------------------------------- press
def _korean_date(iso: str | None) -> str | None:
    if not iso:
        return None
    d = dt.date.fromisoformat(iso[:10])
    return f"{d.year}. {d.month}. {d.day}."


def _bullet_pieces(b: Bullet, max_chars: int) -> list[str]:
    full = b.full_text
    if len(full) <= max_chars:
        return [full]
    head = pack_text(f"{b.marker} {b.text}", max_chars)
    last = head.pop() if head else ""
    children: list[str] = []
    for c in b.children:  # a child stays whole when it fits, else it is packed line by line
        ct = "\n".join(c.lines(1))
        children += [ct] if len(ct) <= max_chars else pack_text(ct, max_chars)
    return head + pack_lines(children, max_chars, start=last)


MAX_CONTACTS = 50


def _press_drafts(pr: PressRelease, max_chars: int, doc_meta: dict) -> list[_Draft]:
    date = _korean_date(pr.release_date)
    tail = " ".join(x for x in (pr.ministry, date) if x)
    label = f"{pr.title} ({tail})" if tail else pr.title
    header = pr.header_meta()
    # Contacts belong to the release, not to each passage: kept once in the document metadata
    # (bounded), never copied into every chunk (a hostile file could multiply them).
    contacts = header.pop("contacts", [])
    doc_meta["contacts"] = contacts[:MAX_CONTACTS]
    doc_meta["embargo"] = header.get("embargo")  # the access guard reads 보도시점 from the document
    doc_meta["embargo_hold"] = bool(header.get("embargo_hold"))  # unreadable 보도시점: held, fails closed
    for key in ("embargo_text", "embargo_times", "embargo_estimated", "immediate", "distributed",
                "distributed_at", "release_date", "ministry", "bureau", "division", "departments",
                "doc_type", "subtitles", "tags", "attachments"):
        doc_meta[key] = header.get(key)
    meta = {**header, "title": pr.title}
    drafts: list[_Draft] = []

    def add(text: str, section: str | None, page: int | None = None) -> None:
        ctx = " > ".join(x for x in (pr.title, section) if x)
        cit = Citation(label=label, title=pr.title, page=page, section=section)
        drafts.append(_Draft(text=text, citation=cit, context=ctx, meta=dict(meta)))

    head = "\n".join([pr.title, *(f"- {s} -" for s in pr.subtitles), *pr.lead]).strip()
    for piece in pack_text(head, max_chars):
        add(piece, None)
    for b in pr.bullets:
        for piece in _bullet_pieces(b, max_chars):
            add(piece, b.section, b.page)
    for at in pr.attachments:
        section = f"{at.label} {at.title}".strip()
        body = "\n".join([at.title, *at.lines]).strip() if at.lines else ""
        for piece in pack_text(body, max_chars) if body else []:
            add(piece, section, at.page)
    return drafts


# --------------------------------------------------------------------------- records
def _record_drafts(doc: Document) -> list[_Draft]:
    title = doc_title(doc)
    drafts = []
    for n, b in enumerate((b for b in doc.blocks if b.kind == "record"), start=1):
        rid = str(b.meta.get("record_id") or n)
        text = b.text
        fields = b.meta.get("fields")
        if not text.strip() and isinstance(fields, dict):
            text = "\n".join(f"{k}: {v}" for k, v in fields.items() if v not in (None, ""))
        drafts.append(_Draft(
            text=text, citation=Citation(label=f"{title} #{rid}", title=title, page=b.page, section=rid),
            context=title, meta={"record_id": rid, **({"fields": fields} if isinstance(fields, dict) else {})},
        ))
    return drafts


# --------------------------------------------------------------------------- generic
# Section headings written as plain paragraphs, as most HWP/HWPX/PDF manuals and plans have them
# (no outline style to read): "제3장 승강장안전문 끼임" (level 1), "제2절 …" (2), "3.1 초기 대응"
# (2), "3.1.2 …" (3), "Ⅱ. 추진 계획" (1). Short, one line, and not a sentence ("…한다."); a single
# number ("1. 무전으로 보고한다") is a step of a procedure, never a heading.
_TEXT_HEADING = re.compile(
    r"^(?:(?P<chap>제\s?\d{1,2}\s?[장편])|(?P<sect>제\s?\d{1,2}\s?절)|(?P<num>\d{1,2}(?:\.\d{1,2}){1,2})\.?"
    r"|(?P<roman>[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]|(?:X{0,1}(?:IX|IV|V?I{1,3}|V)))\.)\s+(?P<name>\S.{0,48})$")
_SENTENCE_END = re.compile(r"(?:다|요)[.。]?$|[.。:：]$")


def text_heading_level(text: str) -> int | None:
    """The heading level of a paragraph that is a section heading by its text, else None."""
    line = " ".join(text.split())
    if "\n" in text.strip() or len(line) > 60:
        return None
    m = _TEXT_HEADING.match(line)
    if not m or _SENTENCE_END.search(m.group("name")):
        return None
    if m.group("chap") or m.group("roman"):
        return 1
    if m.group("sect"):
        return 2
    return m.group("num").count(".") + 1


_NUMBERED_TITLE = re.compile(r"^\d{1,2}\.\s+(?P<name>\S.{0,38})$")
_SUB_ITEM = re.compile(r"^\s*(?:\(\d{1,2}\)|\d{1,2}\)|[①-⑳]|[가나다라마바사아자차카타파하]\s*[.)])\s*\S")


def _with_text_headings(blocks: list[Block]) -> list[Block]:
    """Paragraph blocks that are headings by their text become heading blocks — only in a
    document whose reader found no headings at all (Markdown, DOCX and HTML keep theirs).
    "1. 열차 화재" is a heading only when the paragraph after it opens a list of another kind
    ("(1) …", "가. …", "① …"): a "1. …" followed by "2. …" is a step."""
    if any(b.kind == "heading" for b in blocks):
        return blocks
    levels = [text_heading_level(b.text or "") if b.kind == "paragraph" else None for b in blocks]
    base = 2 if any(lv == 1 for lv in levels) else 1
    out = []
    for i, b in enumerate(blocks):
        level = levels[i]
        if level is None and b.kind == "paragraph":
            m = _NUMBERED_TITLE.match(" ".join((b.text or "").split()))
            nxt = next((x for x in blocks[i + 1:] if x.kind != "page_break" and (x.text or "").strip()), None)
            if (m and not _SENTENCE_END.search(m.group("name")) and nxt is not None and nxt.kind != "heading"
                    and _SUB_ITEM.match(nxt.text or "")):
                level = base
        out.append(Block(kind="heading", text=" ".join(b.text.split()), level=level, page=b.page, meta=b.meta)
                   if level else b)
    return out


def _generic_drafts(doc: Document, max_chars: int) -> list[_Draft]:
    title = doc_title(doc)
    paged = bool(doc.pages) or any(b.kind == "page_break" or b.page is not None for b in doc.blocks)
    page: int | None = 1 if paged else None
    headings: dict[int, str] = {}
    drafts: list[_Draft] = []
    section_lines: list[tuple[str, int | None, bool]] = []

    def flush() -> None:
        if not section_lines:
            return
        # The document title repeated as its first heading adds nothing to the path.
        names = [headings[k] for k in sorted(headings) if headings[k] != title]
        path = " > ".join(names) or None
        last_heading = names[-1] if names else None
        # Pack paragraphs; remember the page where each piece starts.
        cur: list[str] = []
        cur_page: int | None = None
        pieces: list[tuple[str, int | None]] = []
        for text, pg, is_table in section_lines:
            if len(text) <= max_chars:
                parts = [text]
            else:  # tables split at rows, prose at Kiwi sentence boundaries
                parts = pack_text(text, max_chars) if is_table else pack_sentences(text, max_chars)
            for part in parts:
                if cur and len("\n".join(cur)) + 1 + len(part) > max_chars:
                    pieces.append(("\n".join(cur), cur_page))
                    cur = []
                if not cur:
                    cur_page = pg
                cur.append(part)
        if cur:
            pieces.append(("\n".join(cur), cur_page))
        for text, pg in pieces:
            if pg is not None:
                label = f"{title} p.{pg}"
            elif last_heading:
                label = f"{title} §{last_heading}"
            else:
                label = title
            drafts.append(_Draft(
                text=text, citation=Citation(label=label, title=title, page=pg, section=path),
                context=" > ".join(x for x in (title, path) if x), meta={},
            ))
        section_lines.clear()

    for b in _with_text_headings(doc.blocks):
        # A chunk never spans two pages, so that "p.N" is exact.
        if b.kind == "page_break":
            flush()
            page = b.page if b.page is not None else (page or 1) + 1
            continue
        if b.page is not None and b.page != page:
            flush()
            page = b.page
        if b.kind == "heading":
            flush()
            level = max(1, b.level or 1)
            for k in [k for k in headings if k >= level]:
                del headings[k]
            text = " ".join(b.text.split())
            if text:
                headings[level] = text
            continue
        text = block_text(b).strip()
        if not text:
            continue
        section_lines.append((text, page, b.kind == "table"))
    flush()
    if not drafts and not doc.is_empty:  # only headings: keep their text rather than nothing
        heads = [" ".join(b.text.split()) for b in doc.blocks if b.kind == "heading" and b.text.strip()]
        for piece in pack_text("\n".join(heads), max_chars):
            drafts.append(_Draft(text=piece, citation=Citation(label=title, title=title), context=title))
    return drafts
