"""`dasan bench press`: header extraction on real releases against their website listings.

For every release file in the given folders that has ``<stem>.meta.json`` beside it (the
ministry website's listing: ``title``, ``date``, ``division``, ``contact``), the release is read
and parsed as a user's ingest would, and each field is compared with the listing:

- ``title``: the headline equals the listing title after removing spaces, punctuation and
  HTML entities, or one contains the other and both are over 8 characters;
- ``department``: the listing's ``division`` occurs in one of the extracted 담당 부서;
- ``contact``: the listing's contact name is among the extracted contacts;
- ``embargo``: of the releases whose text contains 보도시점, the share with an embargo time
  extracted (``배포 즉시`` counts: it is a readable 보도시점 with no embargo);
- ``date``: the extracted 배포 or 보도시점 date is the listing date ±1 day.

A listing that leaves a field empty (some give no division or contact) is left out of that
field's denominator; ``n`` counts every release read, and ``failed`` the files that could not
be read or parsed (each counts as a miss on every field).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from pathlib import Path
from typing import Any

from dasan.errors import DasanError
from dasan.ingest.press import PressRelease, parse_press_release
from dasan.ingest.readers import read_file

FIELDS = ("title", "department", "contact", "embargo", "date")


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", html.unescape(html.unescape(text or "")))


def title_matches(extracted: str, listed: str) -> bool:
    a, b = _norm(extracted), _norm(listed)
    if not a or not b:
        return False
    return a == b or (len(a) > 8 and len(b) > 8 and (a in b or b in a))


def _text_of(doc: Any) -> str:
    parts = []
    for b in doc.blocks:
        parts.append(b.text or "")
        for row in b.rows or []:
            parts.extend(c or "" for c in row)
    return "".join(parts)


def release_files(folders: list[Path]) -> list[tuple[Path, Path]]:
    """(release file, listing) pairs: files with a ``<stem>.meta.json`` beside them."""
    out = []
    for folder in folders:
        files = [folder] if folder.is_file() else sorted(p for p in folder.iterdir() if p.is_file())
        for f in files:
            if f.name.endswith(".json") or f.name.startswith(".") or f.suffix.lower() == ".md":
                continue
            meta = f.with_name(f.name.split(".")[0] + ".meta.json")
            if meta.exists():
                out.append((f, meta))
    return out


def score_release(pr: PressRelease, doc: Any, listing: dict[str, Any]) -> dict[str, bool | None]:
    """Per-field verdicts (None: the listing gives no reference value)."""
    out: dict[str, bool | None] = {}
    out["title"] = title_matches(pr.title, str(listing.get("title") or "")) if listing.get("title") else None
    division = _norm(str(listing.get("division") or ""))
    depts = [_norm(d) for d in [*pr.departments, *(c.department or "" for c in pr.contacts)]]
    out["department"] = any(division in d for d in depts if d) if division else None
    name = re.sub(r"\s*\(.*$", "", str(listing.get("contact") or "")).strip()
    out["contact"] = (name in {c.name for c in pr.contacts}) if name else None
    out["embargo"] = (pr.embargo is not None or pr.immediate) if "보도시점" in re.sub(r"\s+", "", _text_of(doc)) else None
    date = str(listing.get("date") or "")
    got = [d for d in (pr.distributed, (pr.embargo or "")[:10] or None) if d]
    if date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        ref = dt.date.fromisoformat(date)
        out["date"] = any(abs((dt.date.fromisoformat(d) - ref).days) <= 1 for d in got)
    else:
        out["date"] = None
    return out


def bench_press(folders: list[str | Path]) -> dict[str, Any]:
    pairs = release_files([Path(f) for f in folders])
    hits = dict.fromkeys(FIELDS, 0)
    totals = dict.fromkeys(FIELDS, 0)
    misses: dict[str, list[str]] = {f: [] for f in FIELDS}
    failed: list[dict[str, str]] = []
    t0 = time.perf_counter()
    for path, meta_path in pairs:
        listing = json.loads(meta_path.read_text(encoding="utf-8"))
        try:
            doc = read_file(path)
            pr = parse_press_release(doc)
        except DasanError as e:
            failed.append({"path": str(path), "error": str(e)})
            for f in FIELDS:
                totals[f] += 1
                misses[f].append(path.name)
            continue
        for f, ok in score_release(pr, doc, listing).items():
            if ok is None:
                continue
            totals[f] += 1
            hits[f] += int(ok)
            if not ok:
                misses[f].append(path.name)
    fields = {f: round(hits[f] / totals[f], 4) if totals[f] else None for f in FIELDS}
    return {
        "n": len(pairs), "fields": fields, "counted": totals, "misses": misses, "failed": failed,
        "seconds": round(time.perf_counter() - t0, 2),
    }
