"""Per-collection personal-data policies.

=============  =================================  ==================================
policy         stage ``ingest``                   stage ``answer``
=============  =================================  ==================================
``off``        text unchanged                     text unchanged
``mask_ingest`` masked before it is stored        masked (a safety net: idempotent)
``mask_answer`` stored as is (staff searching by   masked before it reaches the user
               number still find it)
``block``      :class:`PiiBlockedError` if any     :class:`PiiBlockedError` if any
               finding (the document is refused)  finding (the caller refuses to answer)
=============  =================================  ==================================
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from dasan.errors import DasanError, PiiBlockedError

if TYPE_CHECKING:
    from dasan.security.pii import Finding
    from dasan.types import Document

Stage = Literal["ingest", "answer"]


class PiiPolicy(StrEnum):
    OFF = "off"
    MASK_INGEST = "mask_ingest"
    MASK_ANSWER = "mask_answer"
    BLOCK = "block"


def summarize(findings: list[Finding]) -> str:
    """``주민등록번호 2건, 전화번호 1건`` (labels only, never the values)."""
    c = Counter(f.label_ko for f in findings)
    return ", ".join(f"{label} {n}건" for label, n in c.most_common())


def apply_policy(text: str, policy: PiiPolicy | str, stage: Stage, *, press_release: bool = False,
                 path: str | None = None) -> str:
    """Apply ``policy`` to ``text`` at ``stage`` ("ingest" or "answer"); see the module table."""
    from dasan.security.pii import detect, mask

    try:
        pol = PiiPolicy(policy)
    except ValueError:
        raise DasanError(
            f"알 수 없는 개인정보 정책입니다: {policy!r}. off, mask_ingest, mask_answer, block 중에서 고르세요."
        ) from None
    if stage not in ("ingest", "answer"):
        raise DasanError(f"알 수 없는 처리 단계입니다: {stage!r} (ingest 또는 answer)")
    if pol is PiiPolicy.OFF or (pol is PiiPolicy.MASK_ANSWER and stage == "ingest"):
        return text
    findings = detect(text, press_release=press_release)
    if not findings:
        return text
    if pol is PiiPolicy.BLOCK:
        what = "문서" if stage == "ingest" else "답변"
        fix = (
            "개인정보를 지우거나 가린 뒤 다시 넣거나, 컬렉션 정책을 mask_ingest(저장 시 가림)로 바꾸세요."
            if stage == "ingest" else "질문에서 개인정보를 빼고 다시 질문하세요."
        )
        raise PiiBlockedError(
            f"{what}에 개인정보({summarize(findings)})가 있어 이 컬렉션의 정책(block)에 따라 처리하지 않았습니다. {fix}",
            path=path, counts=dict(Counter(f.kind for f in findings)),
        )
    return mask(text, findings)


def protect_document(doc: Document, policy: PiiPolicy | str, *, path: str | None = None) -> int:
    """Apply an ingest-stage policy to every text of ``doc`` in place (block text, table cells,
    record fields); returns how many texts changed. ``block`` raises on the first finding."""
    pol = PiiPolicy(policy)
    if pol in (PiiPolicy.OFF, PiiPolicy.MASK_ANSWER):
        return 0
    press = doc.kind == "press"
    changed = 0

    def fix(text: str) -> str:
        nonlocal changed
        out = apply_policy(text, pol, "ingest", press_release=press, path=path)
        changed += out != text
        return out

    if doc.title:
        doc.title = fix(doc.title)
    for b in doc.blocks:
        b.text = fix(b.text)
        if b.rows:
            b.rows = [[fix(cell) for cell in row] for row in b.rows]
        fields = b.meta.get("fields") if isinstance(b.meta, dict) else None
        if isinstance(fields, dict):
            b.meta["fields"] = {k: fix(v) if isinstance(v, str) else v for k, v in fields.items()}
    return changed
