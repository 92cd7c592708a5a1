"""What a reader needs to judge a cited source: title, article or page, dates, in force or not."""

from __future__ import annotations

from datetime import date
from typing import Any


def source_facts(chunk: Any) -> dict[str, Any]:
    """Title, article/page, 시행일자 with in-force status, 보도일/보도시점/부처 (as ``dasan ask --json``)."""
    m = chunk.meta
    facts: dict[str, Any] = {"title": chunk.citation.title, "article": chunk.citation.article,
                             "page": chunk.citation.page}
    if m.get("시행일자"):
        facts["시행일자"] = str(m["시행일자"])
        facts["in_force"] = str(m["시행일자"]) <= date.today().isoformat() and m.get("상태", "시행") != "폐지"
    for key, name in (("release_date", "보도일"), ("embargo", "보도시점"), ("ministry", "부처")):
        if m.get(key):
            facts[name] = str(m[key])
    return facts
