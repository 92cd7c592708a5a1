"""Classification levels and embargoes: the one place that says how visible a row is now.

Used by search (per-row access columns, filters inside each leg), the access guard (documents,
chunks, originals) and model routing alike, so the three can never disagree.

- A level outside :data:`dasan.types.LEVELS` ranks above the highest: nobody sees it (fails closed).
- A chunk's effective level is the higher of its own and its collection's.
- A press release before its 보도시점 is at least 민감 (:data:`EMBARGO_LEVEL`); a 보도시점 the
  release states but nobody could read is held (infinity) until an operator decides.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

from dasan.types import LEVELS

EMBARGO_LEVEL = LEVELS.index("민감")
KST = timezone(timedelta(hours=9), "KST")


def level_rank(level: str | None) -> int:
    """Index of a level in :data:`LEVELS`; unknown levels rank above the highest."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def effective_rank(level: str | None, collection_level: str | None, embargo: float, now: float) -> int:
    """The rank a row has now: its own or its collection's level, raised by an unexpired embargo."""
    rank = max(level_rank(level), level_rank(collection_level))
    return max(rank, EMBARGO_LEVEL) if embargo > now else rank


def embargo_ts(meta: str | dict) -> float:
    """A press release's 보도시점 as epoch seconds: 0 when it has none; infinity (held) when the
    release states one that could not be read (``embargo_hold``, set until an operator decides
    with ``dasan docs set-embargo``) or when the stored value is not a date-time. Fails closed."""
    m = json.loads(meta) if isinstance(meta, str) else meta
    if not isinstance(m, dict):
        return 0.0
    if m.get("embargo_hold"):
        return math.inf
    raw = m.get("embargo")
    if not raw:
        return 0.0
    try:
        stamp = datetime.fromisoformat(str(raw))
    except ValueError:
        return math.inf
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=KST)
    return stamp.timestamp()
