"""정책브리핑 (korea.kr) open-API press releases, as JSON.

The API gives one record per release (DOMAIN.md §3): ``NewsItemId``, ``Title``,
``MinisterCode`` (the ministry), ``ApproveDate``, ``EmbargoDate``, ``ModifyDate``,
``ContentsStatus`` (``I`` new, ``U`` updated), ``DataContents`` (the body as HTML),
``OriginalUrl`` and attachments. A file may hold one record, a list of them, or the API's
response envelope (``{"response": {"body": {"items": {"item": [...]}}}}``).

Each record becomes one press document whose header fields come from the API, not from
the text; its release key is ``정책브리핑:<NewsItemId>``, so an updated record (a later
``ModifyDate``, status ``U``) replaces the one stored before instead of adding a duplicate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError
from dasan.types import Document

KST = dt.timezone(dt.timedelta(hours=9), "KST")
#: Most records taken from one file (the API pages at 100–1,000; a larger file is split by hand).
MAX_RECORDS = 10_000
_SNIFF = 65_536


@dataclass
class BriefingItem:
    news_item_id: str
    record: dict[str, Any]
    raw: bytes  # canonical JSON of the record: its content hash decides "unchanged"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def looks_like_briefing(data: bytes) -> bool:
    """A JSON document (not JSON Lines) that carries 정책브리핑 fields."""
    head = data[:_SNIFF].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[") and b'"NewsItemId"' in head and b'"DataContents"' in data


def _records(obj: Any) -> list[Any]:
    if isinstance(obj, list):
        return obj
    if isinstance(obj, dict):
        if "NewsItemId" in obj:
            return [obj]
        for key in ("response", "body", "items", "item", "NewsItem", "data", "result"):
            if key in obj:
                return _records(obj[key])
    return []


def parse_briefing(data: bytes, *, label: str = "정책브리핑 JSON") -> list[BriefingItem]:
    """The records of a 정책브리핑 JSON file; a record without ``NewsItemId`` is refused."""
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptFileError(f"{label}을(를) 읽을 수 없습니다 ({e}). UTF-8 JSON인지 확인해 주세요.") from e
    records = _records(obj)
    if not records:
        raise CorruptFileError(f"{label}에 보도자료 항목(NewsItemId)이 없습니다.")
    if len(records) > MAX_RECORDS:
        raise CorruptFileError(f"{label}에 항목이 너무 많습니다 ({len(records)}개 > {MAX_RECORDS}개). 파일을 나누어 주세요.")
    out = []
    for n, rec in enumerate(records, 1):
        if not isinstance(rec, dict) or not str(rec.get("NewsItemId") or "").strip():
            raise CorruptFileError(f"{label}의 {n}번째 항목에 NewsItemId가 없습니다.")
        raw = json.dumps(rec, ensure_ascii=False, sort_keys=True).encode("utf-8")
        out.append(BriefingItem(str(rec["NewsItemId"]).strip(), rec, raw))
    return out


def _stamp(value: Any) -> dt.datetime | None:
    """API date-times: ``2026-03-02 09:00:00``, ``20260302090000``, ``2026.03.02`` (KST)."""
    v = str(value or "").strip()
    if not v:
        return None
    digits = re.sub(r"\D", "", v)
    for fmt, n in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        if len(digits) == n:
            try:
                return dt.datetime.strptime(digits, fmt).replace(tzinfo=KST)
            except ValueError:
                return None
    return None


def item_document(item: BriefingItem, source: str) -> Document:
    """One record as a press document: body from ``DataContents`` (HTML), header from the API."""
    from dasan.ingest.readers.html import HtmlReader

    rec = item.record
    body = str(rec.get("DataContents") or "")
    html = f"<html><body>{body}</body></html>".encode()
    doc = HtmlReader().read(Path(source), html)
    title = " ".join(str(rec.get("Title") or "").split()) or None
    approve, embargo, modified = (_stamp(rec.get(k)) for k in ("ApproveDate", "EmbargoDate", "ModifyDate"))
    doc.source = source
    doc.format = "briefing"
    doc.title = title
    doc.kind = "press"
    doc.metadata = {
        "news_item_id": item.news_item_id,
        "release_key": f"정책브리핑:{item.news_item_id}",
        "ministry": str(rec.get("MinisterCode") or "").strip() or None,
        "briefing_title": title,
        "approve_date": approve.isoformat() if approve else None,
        "briefing_embargo": embargo.isoformat() if embargo else None,
        "modify_date": modified.isoformat() if modified else None,
        "contents_status": str(rec.get("ContentsStatus") or "").strip() or None,
        "original_url": str(rec.get("OriginalUrl") or "").strip() or None,
        "subtitles": [s for s in (str(rec.get("SubTitle1") or "").strip(), str(rec.get("SubTitle2") or "").strip(),
                                  str(rec.get("SubTitle3") or "").strip()) if s],
        "briefing_attachments": [
            str(a.get("FileName") or a.get("fileName") or a) for a in (rec.get("FileList") or rec.get("attachments") or [])
            if a
        ][:50] if isinstance(rec.get("FileList") or rec.get("attachments") or [], list) else [],
    }
    return doc
