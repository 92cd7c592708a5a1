"""Who is calling (``Authorization: Bearer dsn_…``) and the audit entries written for them.

A missing or unknown key is 401; a key whose role or scopes do not allow the action is 403
(:func:`dasan.security.access.require`). Every operation writes its own audit entries with
the user as actor and the key's public prefix and the client address as details; if the log
cannot be written the operation does not run (503).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dasan.security.access import authenticate_key
from dasan.security.audit import AuditLog, audited
from dasan.server.errors import ApiError, not_ready
from dasan.server.state import ServerState
from dasan.types import Principal

bearer = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                    description="API 키 (`dasan keys create`로 발급): `Authorization: Bearer dsn_…`")


def get_state(request: Request) -> ServerState:
    return request.app.state.dasan


def ready_state(request: Request) -> ServerState:
    state = get_state(request)
    if not state.ready.is_set():
        raise not_ready()
    return state


def missing_key() -> ApiError:
    return ApiError(401, "auth_required",
                    "API 키가 필요합니다. 'Authorization: Bearer dsn_…' 헤더로 키를 보내세요 (키는 관리자에게 발급받으세요).")


def current_principal(request: Request,
                      creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if creds is None or not creds.credentials:
        raise missing_key()
    state = get_state(request)
    principal = authenticate_key(state.directory(), creds.credentials)
    request.state.principal = principal
    from dasan.store.postgres.store import narrow

    narrow(principal_scope(state, principal))  # the database reads as this principal from here on
    return principal


def principal_scope(state: ServerState, principal: Principal) -> Any:
    """What the database lets ``principal``'s requests read (PostgreSQL row-level security):
    the clearance rank and the permitted collections, taken from the principal and the
    directory themselves — not from the search filter — so that a fault in the application's
    filters cannot widen it."""
    from dasan.security.access import allowed_collections
    from dasan.security.levels import level_rank
    from dasan.store.postgres.db import AccessScope
    from dasan.types import LEVELS

    allowed = allowed_collections(state.directory(), principal)
    rank = level_rank(principal.clearance if principal.clearance in LEVELS else LEVELS[0])
    return AccessScope(rank, frozenset(allowed) if allowed is not None else None)


class RequestScopeMiddleware:
    """Every HTTP request reads the store in its own access scope: nothing classified until its
    principal is known (anonymous routes: 공개 policy rows only, no documents), then the
    principal's (:func:`current_principal`). Application-internal work inside a request runs
    under ``store.system_scope()``; background threads (jobs, index builds at start) are not
    in any request and read as the application."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from dasan.store.postgres.store import request_scope

        with request_scope():
            await self.app(scope, receive, send)


State = Annotated[ServerState, Depends(get_state)]
ReadyState = Annotated[ServerState, Depends(ready_state)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def _who(principal: Principal, request: Request | None) -> dict[str, Any]:
    out: dict[str, Any] = {"via": "api", "key": principal.key_prefix}
    if request is not None:
        out["client"] = client_of(request)
    return out


@contextlib.contextmanager
def audit_scope(state: ServerState, principal: Principal, request: Request | None, action: str,
                target: str = "", **details: Any) -> Iterator[dict[str, Any]]:
    """``with audit_scope(...) as rec:`` — intent entry first, outcome entry (with ``rec``) after;
    both name the key and the client."""
    who = _who(principal, request)
    with audited(state.audit, action, principal.name, target, **who, **details) as rec:
        rec.update(who)
        yield rec


class AuditTrail:
    """An audited operation whose end comes later (a streamed answer, a background job)."""

    def __init__(self, log: AuditLog, actor: str, action: str, target: str = "", **details: Any) -> None:
        self.log, self.actor, self.action, self.target = log, actor, action, target
        self.who = {k: details[k] for k in ("via", "key", "client") if k in details}
        self.start_seq = log.append(action, actor, target, phase="start", **details).seq

    def as_dict(self) -> dict[str, Any]:
        """What a job keeps of its trail, so that whoever completes it can :meth:`resume` it."""
        return {"actor": self.actor, "action": self.action, "target": self.target, "who": self.who,
                "start_seq": self.start_seq}

    @classmethod
    def resume(cls, log: AuditLog, saved: dict[str, Any]) -> AuditTrail:
        """The trail saved by :meth:`as_dict` (another process or a restart), its start entry
        already written."""
        trail = cls.__new__(cls)
        trail.log, trail.actor, trail.action = log, saved["actor"], saved["action"]
        trail.target, trail.who, trail.start_seq = saved.get("target", ""), dict(saved.get("who") or {}), \
            saved["start_seq"]
        return trail

    @classmethod
    def open(cls, state: ServerState, principal: Principal, request: Request | None, action: str,
             target: str = "", **details: Any) -> AuditTrail:
        return cls(state.audit, principal.name, action, target, **_who(principal, request), **details)

    def finish(self, error: BaseException | str | None = None, *, once: bool = False, **facts: Any) -> None:
        """Write the end entry. ``once``: unless the log already holds this trail's end entry
        (an operation completed again after a crash — a job taken up by a restart or another
        worker — writes its outcome once; the look-up and the append are one transaction)."""
        outcome: dict[str, Any] = {**self.who, **facts, "phase": "end", "start_seq": self.start_seq,
                                   "outcome": "error" if error else "ok"}
        if error:
            outcome["error"] = (f"{type(error).__name__}: {error}" if isinstance(error, BaseException)
                                else str(error))[:500]
        if once:
            key = {"phase": outcome.pop("phase"), "start_seq": outcome.pop("start_seq")}
            self.log.append_once(self.action, self.actor, self.target, outcome, key=key, after_seq=self.start_seq)
        else:
            self.log.append(self.action, self.actor, self.target, **outcome)

