"""Administration (users, departments, API keys) and the audit log, with the CLI's rules.

The checks are those of ``dasan users|departments|keys`` (:mod:`dasan.security.admin_cli`):
admins manage everything; managers manage role-``user`` accounts and sub-departments inside
their own department subtree, never above their own clearance. Every change is written to the
audit log as ``permission.change`` before it happens (and its outcome after).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from dasan.errors import AuditError, PermissionDeniedError
from dasan.security.access import can, check_key_scopes, require
from dasan.security.admin_cli import (
    _can_view_user,
    _check_clearance,
    _check_manage_dept,
    _check_manage_user,
    _is_self,
)
from dasan.security.audit import parse_since
from dasan.security.audit_verify import KIND_KO
from dasan.security.principals import parse_level, parse_role
from dasan.server import schemas as s
from dasan.server.api import ERRORS, NOT_FOUND
from dasan.server.auth import CurrentPrincipal, State, audit_scope
from dasan.server.errors import ApiError
from dasan.types import Principal

router = APIRouter(tags=["관리"])
audit_router = APIRouter(tags=["감사"])
WITH_404 = {**ERRORS, **NOT_FOUND, 409: {"model": s.ErrorResponse, "description": "이미 있음·아직 사용 중"}}


def _require_viewer(actor: Principal, what: str) -> None:
    if not (can(actor, "manage") or can(actor, "audit")):
        raise PermissionDeniedError(f"{what}은(는) 관리자·부서 관리자·감사자만 볼 수 있습니다.")


# -- users ---------------------------------------------------------------------------------
@router.get("/v1/users", summary="사용자 목록", response_model=s.UsersResponse, responses=ERRORS)
def list_users(state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    _require_viewer(actor, "사용자 목록")
    d = state.directory()
    return {"users": [u.as_dict() for u in d.list_users() if _can_view_user(d, actor, u)]}


@router.post("/v1/users", summary="사용자 추가", status_code=201, response_model=s.UserInfo, responses=WITH_404)
def add_user(body: s.UserCreate, request: Request, state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    params = body.model_dump()
    with audit_scope(state, actor, request, "permission.change", "users add", params=params):
        d = state.directory()
        require(actor, "manage")
        clearance, role = parse_level(body.clearance), parse_role(body.role)
        if "admin" not in actor.roles:
            if role != "user":
                raise PermissionDeniedError("부서 관리자는 역할 'user' 사용자만 추가할 수 있습니다.")
            if not body.departments:
                raise PermissionDeniedError("부서 관리자는 departments에 자기 부서를 지정해야 합니다.")
            for dept in body.departments:
                _check_manage_dept(d, actor, dept)
            _check_clearance(actor, clearance)
        user = d.add_user(body.name, clearance=clearance, role=role, departments=body.departments)
    return user.as_dict()


@router.delete("/v1/users/{name}", summary="사용자 삭제 (키도 함께)", response_model=s.Removed, responses=WITH_404)
def remove_user(name: str, request: Request, state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, actor, request, "permission.change", "users rm", params={"name": name[:256]}):
        d = state.directory()
        user = d.get_user(name)
        _check_manage_user(d, actor, user)
        d.remove_user(user.name)
    return {"removed": user.name}


# -- departments ---------------------------------------------------------------------------
@router.get("/v1/departments", summary="부서 트리", response_model=s.DepartmentsResponse, responses=ERRORS)
def list_departments(state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    _require_viewer(actor, "부서 목록")
    return {"departments": state.directory().department_tree()}


@router.post("/v1/departments", summary="부서 추가", status_code=201, response_model=s.DepartmentInfo,
             responses=WITH_404)
def add_department(body: s.DepartmentCreate, request: Request, state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, actor, request, "permission.change", "departments add", params=body.model_dump()):
        d = state.directory()
        require(actor, "manage")
        if "admin" not in actor.roles:
            if body.parent is None:
                raise PermissionDeniedError("최상위 부서는 관리자(admin)만 만들 수 있습니다. parent에 자기 부서를 지정하세요.")
            _check_manage_dept(d, actor, body.parent)
        dept = d.add_department(body.name, body.parent)
    return {"name": dept.name, "parent": dept.parent, "created_at": dept.created_at}


# -- keys ----------------------------------------------------------------------------------
@router.get("/v1/keys", summary="API 키 목록 (비밀 값 없이 접두어만)", response_model=s.KeysResponse, responses=ERRORS)
def list_keys(state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    d = state.directory()
    owners = {u.name: u for u in d.list_users()}
    return {"keys": [k.as_dict() for k in d.list_keys() if _can_view_user(d, actor, owners[k.user])]}


@router.post("/v1/keys", summary="API 키 발급 (비밀 값은 이번 한 번만)", status_code=201,
             response_model=s.NewKeyResponse, responses=WITH_404)
def create_key(body: s.KeyCreate, request: Request, state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    never = "expires_days" in body.model_fields_set and body.expires_days is None
    with audit_scope(state, actor, request, "permission.change", "keys create", params=body.model_dump()) as rec:
        d = state.directory()
        user = d.get_user(body.user)
        if not _is_self(actor, user):
            _check_manage_user(d, actor, user)
        if never and "admin" not in actor.roles:
            raise PermissionDeniedError("만료 없는 키는 관리자(admin)만 발급할 수 있습니다.")
        chosen = check_key_scopes(user.role, body.scopes or ())
        if actor.scopes is not None and not set(chosen) <= set(actor.scopes):
            raise PermissionDeniedError("API 키로 로그인한 상태에서는 그 키보다 넓은 범위의 키를 만들 수 없습니다.")
        new = d.create_key(user.name, chosen, None if never else (body.expires_days or 90))
        rec["prefix"] = new.record.prefix
    return {"key": new.key} | new.record.as_dict()


@router.delete("/v1/keys/{ident}", summary="API 키 폐기 (번호 또는 접두어)", response_model=s.KeyInfo,
               responses=WITH_404)
def revoke_key(ident: str, request: Request, state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, actor, request, "permission.change", "keys revoke", params={"ident": ident[:12]}):
        d = state.directory()
        k = d.find_key(ident)
        owner = d.get_user(k.user)
        if not _is_self(actor, owner):
            _check_manage_user(d, actor, owner)
        k = d.revoke_key(k.id)
    return k.as_dict()


# -- audit ---------------------------------------------------------------------------------
@audit_router.get("/v1/audit", summary="감사 기록 (감사자·관리자)", response_model=s.AuditEntries, responses=ERRORS)
def audit_entries(request: Request, state: State, actor: CurrentPrincipal,
                  since: Annotated[str | None, Query(max_length=64, description="이 시각 이후 (예: 2026-01-31)")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    require(actor, "audit")
    if since:
        try:
            parse_since(since)
        except AuditError as e:  # a malformed date is the caller's mistake (400), not a log failure
            raise ApiError(400, "invalid_request", e.message) from e
    state.audit.append("audit.export", actor.name, "api", since=since, limit=limit, via="api", key=actor.key_prefix)
    if since:
        entries = []
        for e in state.audit.export(since):
            entries.append(e)
            if len(entries) >= limit:
                break
    else:
        entries = [e.to_dict() for e in state.audit.tail(limit)]
    return {"entries": entries}


@audit_router.get("/v1/audit/verify", summary="감사 기록 무결성 검사", response_model=s.VerifyResponse, responses=ERRORS)
def audit_verify(state: State, actor: CurrentPrincipal) -> dict[str, Any]:
    require(actor, "audit")
    state.audit.append("audit.verify", actor.name, "api", via="api", key=actor.key_prefix)
    report = state.audit.verify()
    return {"ok": report.ok, "checked": report.checked, "head": report.head, "omitted": report.omitted,
            "problems": [{"seq": p.seq, "kind": p.kind, "kind_ko": KIND_KO.get(p.kind, p.kind), "message": p.message_ko}
                         for p in report.problems]}
