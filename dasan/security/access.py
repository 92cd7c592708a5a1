"""Access policy: who a request is, what they may do, which collections they may read.

Rules (kept deliberately simple so that an auditor can check them by hand):

- **Roles.** ``admin`` may do everything and sees every collection. ``manager`` may search,
  ask, read and ingest documents, and administer users, sub-departments and keys *inside
  their own department subtree* (only users whose role is ``user``, never above the manager's
  own clearance). ``user`` may search, ask and read documents. ``auditor`` may read the audit
  log and, so that they can check what users were shown, search/ask/read under the same
  clearance and department limits as a user; auditors administer nothing.
- **Departments and nesting.** A user or auditor sees collections owned by the departments
  they are a *direct* member of. Membership of a parent department does not open its
  sub-departments' collections, and membership of a sub-department does not open the parent's
  (assign a collection to several departments to share it). A manager's reach is their
  departments *and all their sub-departments*, for reading and for administration.
- **Unowned collections** (no owning department) are visible to everybody, within clearance.
  Assign the owner before the first ingest to keep a new collection private from the start.
- **Clearance.** A collection whose level is above the principal's clearance is hidden as a
  whole (a system holding mixed levels is treated at its highest level); the search filter
  must still compare each chunk's classification with the clearance. Unknown levels count
  as the highest.
- **API keys** carry scopes; what a key may do is its user's role *and* its scopes
  (``manage`` needs scope ``admin``, ``audit`` needs ``audit``, ``ingest`` needs ``docs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from dasan.errors import AuthError, InvalidKeyError, KeyExpiredError, KeyRevokedError, PermissionDeniedError
from dasan.security.principals import (
    RESERVED_USER_NAMES,
    ROLES,
    SCOPES,
    Directory,
    UserRecord,
    parse_scopes,
)
from dasan.types import LEVELS, Principal

#: Things a principal may try to do.
ACTIONS: tuple[str, ...] = ("search", "ask", "docs", "ingest", "audit", "manage")

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(ACTIONS),
    "manager": frozenset({"search", "ask", "docs", "ingest", "manage"}),
    "user": frozenset({"search", "ask", "docs"}),
    "auditor": frozenset({"search", "ask", "docs", "audit"}),
}

#: The key scope each action needs.
ACTION_SCOPE: dict[str, str] = {
    "search": "search", "ask": "ask", "docs": "docs", "ingest": "docs", "audit": "audit", "manage": "admin",
}

_ACTION_KO = {"search": "검색", "ask": "질문", "docs": "문서 열람", "ingest": "문서 등록", "audit": "감사 기록 열람",
              "manage": "사용자·부서·키 관리"}

__all__ = [
    "ACTIONS",
    "ACTION_SCOPE",
    "ROLE_ACTIONS",
    "AuthError",
    "InvalidKeyError",
    "KeyExpiredError",
    "KeyRevokedError",
    "PermissionDeniedError",
    "allowed_collections",
    "allowed_key_scopes",
    "authenticate_key",
    "can",
    "can_manage_department",
    "can_manage_user",
    "can_see_collection",
    "check_key_scopes",
    "default_key_scopes",
    "effective_departments",
    "level_allows",
    "manageable_departments",
    "require",
    "resolve_principal",
]


def _principal(user: UserRecord, scopes: tuple[str, ...] | None = None, key_prefix: str | None = None) -> Principal:
    return Principal(name=user.name, clearance=user.clearance, roles=(user.role,),
                     departments=user.departments, scopes=scopes, key_prefix=key_prefix)


def resolve_principal(directory: Directory, name: str) -> Principal:
    """The principal for a user name (``operator`` is the local admin). NotFoundError if unknown."""
    if isinstance(name, str) and name.strip().lower() in RESERVED_USER_NAMES:
        return Principal.operator()
    return _principal(directory.get_user(name))


def authenticate_key(directory: Directory, key: str, *, now: datetime | None = None) -> Principal:
    """The principal an API key stands for, limited to the key's scopes.

    Raises :class:`InvalidKeyError` (malformed or unknown), :class:`KeyRevokedError` or
    :class:`KeyExpiredError`. Revoked/expired are only reported to holders of the real secret.
    """
    rec = directory.match_key(key)
    if rec is None:
        raise InvalidKeyError("API 키가 올바르지 않습니다. 키를 정확히 복사했는지 확인하거나 관리자에게 새 키를 요청하세요.")
    status = rec.status(now)
    if status == "revoked":
        raise KeyRevokedError(f"폐기된 API 키입니다 ({rec.prefix}). 관리자에게 새 키를 요청하세요.")
    if status == "expired":
        raise KeyExpiredError(f"만료된 API 키입니다 ({rec.prefix}, 만료 {rec.expires_at}). 관리자에게 새 키를 요청하세요.")
    directory.touch_key(rec.id, now)
    return _principal(directory.get_user(rec.user), scopes=rec.scopes, key_prefix=rec.prefix)


# -- actions -----------------------------------------------------------------------------
def can(principal: Principal, action: str) -> bool:
    """Whether the principal's role (and, for key logins, the key's scopes) allow ``action``."""
    if action not in ACTION_SCOPE:
        return False
    if not any(action in ROLE_ACTIONS.get(r, frozenset()) for r in principal.roles):
        return False
    return principal.scopes is None or ACTION_SCOPE[action] in principal.scopes


def require(principal: Principal, action: str) -> None:
    """Raises :class:`PermissionDeniedError` unless :func:`can` allows ``action``."""
    if can(principal, action):
        return
    what = _ACTION_KO.get(action, action)
    if principal.scopes is not None and any(action in ROLE_ACTIONS.get(r, frozenset()) for r in principal.roles):
        raise PermissionDeniedError(f"이 API 키({principal.key_prefix})에는 '{what}' 권한이 없습니다. "
                                    f"범위 '{ACTION_SCOPE.get(action, action)}'가 있는 키를 쓰세요.")
    raise PermissionDeniedError(f"{principal.name}에게는 '{what}' 권한이 없습니다. 관리자에게 요청하세요.")


def level_allows(clearance: str, level: str) -> bool:
    """Whether ``clearance`` may read material classified ``level`` (unknown levels = highest)."""
    top = len(LEVELS) - 1
    c = LEVELS.index(clearance) if clearance in LEVELS else -1
    lv = LEVELS.index(level) if level in LEVELS else top
    return c >= lv


# -- departments and collections ---------------------------------------------------------
def _is_admin(principal: Principal) -> bool:
    return "admin" in principal.roles


def effective_departments(directory: Directory, principal: Principal) -> set[str]:
    """Departments whose collections the principal reads: direct memberships, plus every
    sub-department for managers (see the module docstring)."""
    out: set[str] = set()
    for d in principal.departments:
        if directory.find_department(d) is None:
            continue
        out.update(directory.subtree(d) if "manager" in principal.roles else [directory.get_department(d).name])
    return {d.casefold() for d in out}


def allowed_collections(directory: Directory, principal: Principal) -> set[str] | None:
    """Existing collections the principal may read; ``None`` means all (admins)."""
    if _is_admin(principal):
        return None
    depts = effective_departments(directory, principal)
    owners = directory.collection_owners()
    out = set()
    for name, level in directory.collection_levels().items():
        if not level_allows(principal.clearance, level):
            continue
        own = owners.get(name)
        if not own or any(d.casefold() in depts for d in own):
            out.add(name)
    return out


def can_see_collection(directory: Directory, principal: Principal, collection: str) -> bool:
    allowed = allowed_collections(directory, principal)
    return allowed is None or collection in allowed


def manageable_departments(directory: Directory, principal: Principal) -> set[str] | None:
    """Departments the principal administers (casefolded names); ``None`` = all (admins)."""
    if not can(principal, "manage"):
        return set()
    if _is_admin(principal):
        return None
    return effective_departments(directory, principal)


def can_manage_department(directory: Directory, principal: Principal, department: str) -> bool:
    scope = manageable_departments(directory, principal)
    if scope is None:
        return True
    dept = directory.find_department(department)
    return dept is not None and dept.name.casefold() in scope


def can_manage_user(directory: Directory, principal: Principal, target: UserRecord) -> bool:
    """Admins manage everybody; managers manage role-``user`` accounts whose every department
    lies in their subtree and whose clearance does not exceed their own."""
    scope = manageable_departments(directory, principal)
    if scope is None:
        return True
    if not scope or target.role != "user" or not target.departments:
        return False
    return (all(d.casefold() in scope for d in target.departments)
            and level_allows(principal.clearance, target.clearance))


# -- key scopes --------------------------------------------------------------------------
def allowed_key_scopes(role: str) -> tuple[str, ...]:
    """Scopes a key for a user with ``role`` may carry."""
    acts = ROLE_ACTIONS.get(role, frozenset())
    return tuple(s for s in SCOPES if any(ACTION_SCOPE[a] == s for a in acts))


def default_key_scopes(role: str) -> tuple[str, ...]:
    """Scopes given when none are asked for: everything the role allows except ``admin``."""
    return tuple(s for s in allowed_key_scopes(role) if s != "admin")


def check_key_scopes(role: str, requested: Iterable[str]) -> tuple[str, ...]:
    """The requested scopes (or the defaults), refusing scopes the role cannot use."""
    scopes = parse_scopes(requested) or default_key_scopes(role)
    extra = [s for s in scopes if s not in allowed_key_scopes(role)]
    if extra:
        raise PermissionDeniedError(f"역할 '{role}' 사용자의 키에는 범위 {', '.join(extra)}를 줄 수 없습니다. "
                                    f"가능한 범위: {', '.join(allowed_key_scopes(role))}")
    return scopes


assert set(ROLE_ACTIONS) == set(ROLES)
