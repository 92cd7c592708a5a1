"""Access enforcement: what a principal may see, turned into filters the search applies itself.

A user sees a chunk only when (a) its effective level — the higher of the document's and the
collection's level, raised to 민감 for a press release before its 보도시점 — is within the
user's clearance, and (b) its collection is one of the user's permitted collections
(:func:`dasan.security.access.allowed_collections`). Search gets both as a
:class:`~dasan.rag.retrieve.SearchFilter` applied inside every leg before the top-k cut, so
nothing above clearance is ever scored, counted, quoted or timed.

Documents outside a user's view are reported as *not found*, never as *forbidden*: a
refusal would tell the user that the document exists.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from dasan.errors import NotFoundError
from dasan.rag.retrieve import SearchFilter
from dasan.security.access import allowed_collections, require
from dasan.security.levels import effective_rank, embargo_ts, level_rank
from dasan.security.principals import Directory
from dasan.store.base import DocumentRecord, Store
from dasan.types import LEVELS, Principal

_rank = level_rank


def directory(store: Store) -> Directory:
    return Directory.from_store(store)


def search_filter(store: Store, principal: Principal, base: SearchFilter | None = None) -> SearchFilter:
    """``base`` narrowed to what ``principal`` may see."""
    flt = base or SearchFilter()
    allowed = allowed_collections(directory(store), principal)
    clearance = principal.clearance if principal.clearance in LEVELS else LEVELS[0]
    max_level = clearance
    if flt.max_level and flt.max_level in LEVELS:
        max_level = LEVELS[min(_rank(flt.max_level), _rank(clearance))]
    collections = None if allowed is None else frozenset(allowed)
    if flt.collections is not None:
        collections = flt.collections if collections is None else collections & flt.collections
    return replace(flt, max_level=max_level, collections=collections)


def document_level(store: Store, doc: DocumentRecord, now: float | None = None,
                   collection_level: str | None = None) -> int:
    """Effective level index of a document now (see module docstring)."""
    coll = collection_level if collection_level is not None else store.collection_level(doc.collection)
    embargo = embargo_ts(doc.metadata)
    if not embargo and doc.kind == "press" and "embargo" not in doc.metadata:
        # stored before 보도시점 was kept on the document: the press parser put it on the chunks
        first = store.chunks_of(doc.id)[:1]
        embargo = embargo_ts(first[0].meta) if first else 0.0
    return effective_rank(doc.classification, coll, embargo, time.time() if now is None else now)


class _View:
    """What one principal may see, looked up once per call (not once per document)."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.allowed = allowed_collections(directory(store), principal)
        self.clearance = _rank(principal.clearance if principal.clearance in LEVELS else LEVELS[0])
        self.levels = {c["name"]: c["level"] for c in store.collections()}

    def sees(self, doc: DocumentRecord) -> bool:
        if self.allowed is not None and doc.collection not in self.allowed:
            return False
        return document_level(self.store, doc, collection_level=self.levels.get(doc.collection, "")) <= self.clearance


def can_see_document(store: Store, principal: Principal, doc: DocumentRecord) -> bool:
    return _View(store, principal).sees(doc)


def get_document(store: Store, principal: Principal, document_id: str) -> DocumentRecord:
    """The document, or :class:`NotFoundError` when it does not exist *or* is outside the view."""
    require(principal, "docs")
    doc = store.get_document(document_id)
    if doc is None or not can_see_document(store, principal, doc):
        raise NotFoundError(f"문서를 찾을 수 없습니다: {document_id[:16]}")
    return doc


def visible_documents(store: Store, principal: Principal, collection: str | None = None) -> list[DocumentRecord]:
    require(principal, "docs")
    view = _View(store, principal)
    return [d for d in store.list_documents(collection) if view.sees(d)]


def visible_collections(store: Store, principal: Principal) -> list[dict[str, Any]]:
    """Collections the principal may see, with counts over the documents they may see."""
    require(principal, "docs")
    view = _View(store, principal)
    docs = [d for d in store.list_documents() if view.sees(d)]
    out = []
    for c in store.collections():
        if (view.allowed is not None and c["name"] not in view.allowed) or _rank(c["level"]) > view.clearance:
            continue
        mine = [d for d in docs if d.collection == c["name"]]
        out.append({**c, "documents": len(mine), "chunks": sum(d.n_chunks for d in mine)})
    return out


def check_ingest(store: Store, principal: Principal, collection: str, level: str,
                 departments: tuple[str, ...] = ()) -> str:
    """Validate an ingest request; returns the normalised level.

    The principal needs the ``ingest`` action, may not file material above their own clearance,
    and (unless admin) may only add to a collection they can see. Assigning owner departments
    is an admin's act.
    """
    from dasan.errors import PermissionDeniedError
    from dasan.security.access import can_see_collection
    from dasan.security.principals import parse_level

    require(principal, "ingest")
    lvl = parse_level(level)
    if _rank(lvl) > _rank(principal.clearance):
        raise PermissionDeniedError(f"자신의 취급 등급({principal.clearance})보다 높은 {lvl} 등급 문서는 등록할 수 없습니다.")
    admin = "admin" in principal.roles
    if departments and not admin:
        raise PermissionDeniedError("컬렉션의 소유 부서 지정은 관리자만 할 수 있습니다.")
    d = directory(store)
    owned = collection in d.collection_owners()
    if not admin and owned and not can_see_collection(d, principal, collection):
        raise PermissionDeniedError(f"컬렉션 '{collection}'에 문서를 등록할 권한이 없습니다.")
    return lvl


def check_relabel(store: Store, principal: Principal, level: str, what: str = "보안 등급 변경") -> str:
    """Changing a level is an admin's act (it changes who sees what); returns the normalised level."""
    from dasan.errors import PermissionDeniedError
    from dasan.security.principals import parse_level

    lvl = parse_level(level)
    if "admin" not in principal.roles:
        raise PermissionDeniedError(f"{what}은(는) 관리자만 할 수 있습니다.")
    return lvl


# -- personal data on the way out -------------------------------------------------------------
class _Policies:
    """Collection policy per chunk's document, looked up once per call."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._doc: dict[str, tuple[str, bool]] = {}

    def of(self, chunk: Any) -> tuple[str, bool]:
        if chunk.document_id not in self._doc:
            doc = self.store.get_document(chunk.document_id)
            coll = doc.collection if doc else ""
            self._doc[chunk.document_id] = (self.store.collection_pii_policy(coll), bool(doc and doc.kind == "press"))
        return self._doc[chunk.document_id]


def _masked_chunk(chunk: Any, policy: str, press: bool) -> Any:
    from dasan.security.pii_policy import apply_policy

    return replace(chunk, text=apply_policy(chunk.text, policy, "answer", press_release=press),
                   context=apply_policy(chunk.context, policy, "answer", press_release=press))


def redact_hits(store: Store, hits: list[Any]) -> list[Any]:
    """Search results with personal data masked per their collection's policy.

    ``block`` collections cannot hold personal data (refused at ingest); should one slip in
    (policy changed later), the passage is withheld rather than shown.
    """
    from dasan.errors import PiiBlockedError
    from dasan.security.pii_policy import apply_policy

    pol = _Policies(store)
    out = []
    for h in hits:
        policy, press = pol.of(h.chunk)
        try:
            chunk = _masked_chunk(h.chunk, policy, press)
            snip = apply_policy(h.snippet, policy, "answer", press_release=press)
        except PiiBlockedError:
            continue
        out.append(replace(h, chunk=chunk, snippet=snip))
    return out


def redact_chunks(store: Store, chunks: list[Any]) -> list[Any]:
    """Chunks as a reader may see them (personal data masked per their collection's policy)."""
    from dasan.types import Hit

    return [h.chunk for h in redact_hits(store, [Hit(chunk=c, score=0.0) for c in chunks])]


def redact_answer(store: Store, ans: Any) -> Any:
    """The answer text, quotes and sources masked per the strictest policy among its sources."""
    from dasan.errors import PiiBlockedError
    from dasan.security.pii_policy import apply_policy

    pol = _Policies(store)
    order = ["off", "mask_answer", "mask_ingest", "block"]
    policies = [pol.of(c.chunk) for c in ans.citations] or [("mask_answer", False)]
    strictest = max((p for p, _ in policies), key=lambda p: order.index(p) if p in order else len(order))
    press = all(pr for _, pr in policies)
    try:
        text = apply_policy(ans.text, strictest, "answer", press_release=press)
    except PiiBlockedError as e:
        return replace(ans, text=f"개인정보 보호 정책에 따라 답변을 보여 드릴 수 없습니다. ({e.message})", refused=True,
                       citations=[], hits=redact_hits(store, ans.hits), notes=[*ans.notes, "pii_blocked"])
    cites = []
    for c in ans.citations:
        p, pr = pol.of(c.chunk)
        cites.append(replace(c, chunk=_masked_chunk(c.chunk, p, pr),
                             quote=apply_policy(c.quote, p, "answer", press_release=pr)))
    return replace(ans, text=text, citations=cites, hits=redact_hits(store, ans.hits))
