"""``dasan users|departments|keys``: administration of the principal directory.

The acting principal is ``ctx.obj.principal`` when the root command set one (``--as NAME``),
otherwise the local operator (admin). Every change is checked with :mod:`dasan.security.access`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from dasan import config
from dasan.errors import PermissionDeniedError
from dasan.security.access import (
    allowed_collections,
    can,
    can_manage_department,
    can_manage_user,
    check_key_scopes,
    level_allows,
    manageable_departments,
    require,
)
from dasan.security.principals import (
    DEFAULT_KEY_DAYS,
    ROLES,
    SCOPES,
    Directory,
    UserRecord,
    parse_level,
    parse_role,
)
from dasan.types import LEVELS, Principal

_CTX = {"help_option_names": ["-h", "--help"]}


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _directory() -> Directory:
    ctx = click.get_current_context()
    root = ctx.find_root()
    cached = root.meta.get("dasan.directory")
    if isinstance(cached, Directory):
        return cached
    store = getattr(root.obj, "store", None) if root.obj is not None else None
    if store is None:
        from dasan.store import open_store

        store = open_store(config.data_dir())
        root.call_on_close(store.close)
    directory = Directory.from_store(store)
    root.meta["dasan.directory"] = directory
    return directory


def _actor() -> Principal:
    obj = click.get_current_context().find_root().obj
    p = getattr(obj, "principal", None) if obj is not None else None
    return p if isinstance(p, Principal) else Principal.operator()


def _deny(msg: str) -> PermissionDeniedError:
    return PermissionDeniedError(msg)


def _is_self(actor: Principal, user: UserRecord) -> bool:
    return actor.name.casefold() == user.name.casefold()


def _can_view_user(d: Directory, actor: Principal, user: UserRecord) -> bool:
    if _is_self(actor, user) or can(actor, "audit"):
        return True
    scope = manageable_departments(d, actor)
    return scope is None or any(x.casefold() in scope for x in user.departments)


def _check_manage_user(d: Directory, actor: Principal, user: UserRecord) -> None:
    require(actor, "manage")
    if not can_manage_user(d, actor, user):
        raise _deny(f"{actor.name}은(는) 사용자 {user.name}을(를) 관리할 수 없습니다. "
                    "부서 관리자는 자기 부서(하위 부서 포함)의 일반 사용자만 관리합니다.")


def _check_manage_dept(d: Directory, actor: Principal, dept: str) -> None:
    require(actor, "manage")
    if not can_manage_department(d, actor, dept):
        raise _deny(f"{actor.name}은(는) 부서 {dept}을(를) 관리할 수 없습니다.")


def _check_clearance(actor: Principal, level: str) -> None:
    if "admin" not in actor.roles and not level_allows(actor.clearance, level):
        raise _deny(f"자신의 취급 등급({actor.clearance})보다 높은 등급({level})은 줄 수 없습니다.")


def _level(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else parse_level(value)


# -- users -------------------------------------------------------------------------------
@click.group("users", context_settings=_CTX)
def users() -> None:
    """사용자 관리 (취급 등급, 역할, 소속 부서)."""


def _user_line(u: UserRecord) -> str:
    return f"{u.name:<16} 등급 {u.clearance}  역할 {u.role:<8} 부서 {', '.join(u.departments) or '-'}"


@users.command("add")
@click.argument("name")
@click.option("--clearance", required=True, callback=_level, help=f"취급 등급: {'|'.join(LEVELS)}")
@click.option("--role", default="user", show_default=True, type=click.Choice(ROLES), help="역할")
@click.option("--department", "departments", multiple=True, help="소속 부서 (여러 번 지정 가능)")
@click.option("--json", "as_json", is_flag=True)
def users_add(name: str, clearance: str, role: str, departments: tuple[str, ...], as_json: bool) -> None:
    """사용자를 추가합니다."""
    d, actor = _directory(), _actor()
    require(actor, "manage")
    if "admin" not in actor.roles:
        if role != "user":
            raise _deny("부서 관리자는 역할 'user' 사용자만 추가할 수 있습니다.")
        if not departments:
            raise _deny("부서 관리자는 --department로 자기 부서를 지정해야 합니다.")
        for dept in departments:
            _check_manage_dept(d, actor, dept)
        _check_clearance(actor, clearance)
    u = d.add_user(name, clearance=clearance, role=role, departments=departments)
    if as_json:
        _emit_json(u.as_dict())
    else:
        click.echo(f"사용자를 추가했습니다: {_user_line(u)}")


@users.command("list")
@click.option("--department", default=None, help="이 부서 구성원만")
@click.option("--json", "as_json", is_flag=True)
def users_list(department: str | None, as_json: bool) -> None:
    """사용자 목록."""
    d, actor = _directory(), _actor()
    if not (can(actor, "manage") or can(actor, "audit")):
        raise _deny("사용자 목록은 관리자·부서 관리자·감사자만 볼 수 있습니다.")
    rows = [u for u in d.list_users(department) if _can_view_user(d, actor, u)]
    if as_json:
        _emit_json([u.as_dict() for u in rows])
        return
    if not rows:
        click.echo("사용자가 없습니다.")
    for u in rows:
        click.echo(_user_line(u))


@users.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def users_show(name: str, as_json: bool) -> None:
    """사용자 한 명의 정보, 키, 볼 수 있는 컬렉션."""
    d, actor = _directory(), _actor()
    u = d.get_user(name)
    if not _can_view_user(d, actor, u):
        raise _deny(f"{actor.name}은(는) 사용자 {u.name}의 정보를 볼 수 없습니다.")
    from dasan.security.access import resolve_principal

    visible = allowed_collections(d, resolve_principal(d, u.name))
    info = u.as_dict() | {
        "collections": None if visible is None else sorted(visible),
        "keys": [k.as_dict() for k in d.list_keys(u.name)],
    }
    if as_json:
        _emit_json(info)
        return
    click.echo(_user_line(u))
    click.echo(f"  볼 수 있는 컬렉션: {'전체' if visible is None else (', '.join(sorted(visible)) or '없음')}")
    for k in info["keys"]:
        click.echo(f"  키 {k['id']:>3} {k['prefix']}  {k['status']:<7} 범위 {','.join(k['scopes'])}  "
                   f"만료 {k['expires_at'] or '없음'}")


@users.command("set-clearance")
@click.argument("name")
@click.argument("level", callback=_level)
def users_set_clearance(name: str, level: str) -> None:
    """취급 등급을 바꿉니다."""
    d, actor = _directory(), _actor()
    _check_manage_user(d, actor, d.get_user(name))
    _check_clearance(actor, level)
    u = d.set_clearance(name, level)
    click.echo(f"등급을 바꿨습니다: {_user_line(u)}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def users_set_role(name: str, role: str) -> None:
    """역할을 바꿉니다 (관리자만)."""
    d, actor = _directory(), _actor()
    require(actor, "manage")
    if "admin" not in actor.roles:
        raise _deny("역할은 관리자(admin)만 바꿀 수 있습니다.")
    u = d.set_role(name, parse_role(role))
    click.echo(f"역할을 바꿨습니다: {_user_line(u)}")


@users.command("join")
@click.argument("name")
@click.argument("department")
def users_join(name: str, department: str) -> None:
    """사용자를 부서에 넣습니다."""
    d, actor = _directory(), _actor()
    _check_manage_user(d, actor, d.get_user(name))
    _check_manage_dept(d, actor, department)
    u = d.join_department(name, department)
    click.echo(f"부서에 넣었습니다: {_user_line(u)}")


@users.command("leave")
@click.argument("name")
@click.argument("department")
def users_leave(name: str, department: str) -> None:
    """사용자를 부서에서 뺍니다."""
    d, actor = _directory(), _actor()
    _check_manage_user(d, actor, d.get_user(name))
    _check_manage_dept(d, actor, department)
    u = d.leave_department(name, department)
    click.echo(f"부서에서 뺐습니다: {_user_line(u)}")


@users.command("rm")
@click.argument("name")
def users_rm(name: str) -> None:
    """사용자와 그 사용자의 API 키를 모두 지웁니다."""
    d, actor = _directory(), _actor()
    u = d.get_user(name)
    _check_manage_user(d, actor, u)
    d.remove_user(u.name)
    click.echo(f"사용자를 지웠습니다: {u.name} (API 키도 함께 삭제됨)")


# -- departments -------------------------------------------------------------------------
@click.group("departments", context_settings=_CTX)
def departments() -> None:
    """부서(조직 단위) 관리와 컬렉션 소유 부서 지정."""


@departments.command("add")
@click.argument("name")
@click.option("--parent", default=None, help="상위 부서")
@click.option("--json", "as_json", is_flag=True)
def departments_add(name: str, parent: str | None, as_json: bool) -> None:
    """부서를 추가합니다 (부서 관리자는 자기 부서 아래에만)."""
    d, actor = _directory(), _actor()
    require(actor, "manage")
    if "admin" not in actor.roles:
        if parent is None:
            raise _deny("최상위 부서는 관리자(admin)만 만들 수 있습니다. --parent로 자기 부서를 지정하세요.")
        _check_manage_dept(d, actor, parent)
    dept = d.add_department(name, parent)
    if as_json:
        _emit_json({"name": dept.name, "parent": dept.parent, "created_at": dept.created_at})
    else:
        click.echo(f"부서를 추가했습니다: {dept.name}" + (f" (상위: {dept.parent})" if dept.parent else ""))


def _print_tree(nodes: list[dict[str, Any]], prefix: str = "", root: bool = True) -> None:
    for i, n in enumerate(nodes):
        last = i == len(nodes) - 1
        colls = f", 컬렉션 {', '.join(n['collections'])}" if n["collections"] else ""
        branch = "" if root else ("└─ " if last else "├─ ")
        click.echo(f"{prefix}{branch}{n['name']} (구성원 {n['members']}명{colls})")
        _print_tree(n["children"], "" if root else prefix + ("   " if last else "│  "), root=False)


@departments.command("list")
@click.option("--json", "as_json", is_flag=True)
def departments_list(as_json: bool) -> None:
    """부서를 트리로 보여 줍니다."""
    d, actor = _directory(), _actor()
    if not (can(actor, "manage") or can(actor, "audit")):
        raise _deny("부서 목록은 관리자·부서 관리자·감사자만 볼 수 있습니다.")
    tree = d.department_tree()
    if as_json:
        _emit_json(tree)
        return
    if not tree:
        click.echo("부서가 없습니다. `dasan departments add 이름`으로 만드세요.")
    _print_tree(tree)


@departments.command("rm")
@click.argument("name")
def departments_rm(name: str) -> None:
    """부서를 지웁니다 (하위 부서·구성원·컬렉션이 남아 있으면 거부)."""
    d, actor = _directory(), _actor()
    _check_manage_dept(d, actor, name)
    dept = d.get_department(name)
    d.remove_department(dept.name)
    click.echo(f"부서를 지웠습니다: {dept.name}")


@departments.command("assign-collection")
@click.argument("collection")
@click.argument("department")
def departments_assign(collection: str, department: str) -> None:
    """컬렉션의 소유 부서를 지정합니다 (관리자만). 소유 부서가 없는 컬렉션은 모두가 봅니다."""
    d, actor = _directory(), _actor()
    require(actor, "manage")
    if "admin" not in actor.roles:
        raise _deny("컬렉션 소유 부서는 관리자(admin)만 지정할 수 있습니다.")
    d.assign_collection(collection, department)
    owners = d.collection_owners().get(collection.strip(), ())
    note = "" if collection.strip() in d.collection_levels() else " (아직 없는 컬렉션: 처음 넣을 때부터 적용)"
    click.echo(f"컬렉션 {collection.strip()}의 소유 부서: {', '.join(owners)}{note}")


@departments.command("unassign-collection")
@click.argument("collection")
@click.argument("department")
def departments_unassign(collection: str, department: str) -> None:
    """컬렉션에서 소유 부서를 뺍니다 (관리자만). 마지막 부서를 빼면 모두에게 보입니다."""
    d, actor = _directory(), _actor()
    require(actor, "manage")
    if "admin" not in actor.roles:
        raise _deny("컬렉션 소유 부서는 관리자(admin)만 바꿀 수 있습니다.")
    d.unassign_collection(collection, department)
    owners = d.collection_owners().get(collection.strip(), ())
    click.echo(f"컬렉션 {collection.strip()}의 소유 부서: {', '.join(owners) or '없음 (모두에게 공개, 등급 제한은 유지)'}")


# -- keys --------------------------------------------------------------------------------
@click.group("keys", context_settings=_CTX)
def keys() -> None:
    """API 키 발급·목록·폐기 (비밀 값은 발급할 때 한 번만 보여 줍니다)."""


@keys.command("create")
@click.option("--user", "user_name", required=True, help="키를 받을 사용자")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="허용 범위 (여러 번 지정; 기본: 역할이 허용하는 범위 중 admin 제외)")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=DEFAULT_KEY_DAYS, show_default=True,
              help="유효 기간(일)")
@click.option("--never-expires", is_flag=True, help="만료 없음 (관리자만)")
@click.option("--json", "as_json", is_flag=True)
def keys_create(user_name: str, scopes: tuple[str, ...], expires_days: int, never_expires: bool,
                as_json: bool) -> None:
    """API 키를 발급합니다."""
    d, actor = _directory(), _actor()
    u = d.get_user(user_name)
    if not _is_self(actor, u):
        _check_manage_user(d, actor, u)
    if never_expires and "admin" not in actor.roles:
        raise _deny("만료 없는 키는 관리자(admin)만 발급할 수 있습니다.")
    chosen = check_key_scopes(u.role, scopes)
    if actor.scopes is not None and not set(chosen) <= set(actor.scopes):
        raise _deny("API 키로 로그인한 상태에서는 그 키보다 넓은 범위의 키를 만들 수 없습니다.")
    new = d.create_key(u.name, chosen, None if never_expires else expires_days)
    if as_json:
        _emit_json({"key": new.key} | new.record.as_dict())
        return
    r = new.record
    click.echo(f"API 키를 발급했습니다 (번호 {r.id}, 사용자 {r.user}, 범위 {','.join(r.scopes)}, "
               f"만료 {r.expires_at or '없음'}).")
    click.echo(new.key)
    click.echo("이 키는 다시 볼 수 없습니다. 지금 안전한 곳에 보관하세요.", err=True)


@keys.command("list")
@click.option("--user", "user_name", default=None, help="이 사용자의 키만")
@click.option("--json", "as_json", is_flag=True)
def keys_list(user_name: str | None, as_json: bool) -> None:
    """키 목록 (비밀 값은 보이지 않고 접두어만 보입니다)."""
    d, actor = _directory(), _actor()
    owners = {u.name: u for u in d.list_users()}
    rows = [k for k in d.list_keys(user_name) if _can_view_user(d, actor, owners[k.user])]
    if as_json:
        _emit_json([k.as_dict() for k in rows])
        return
    if not rows:
        click.echo("API 키가 없습니다.")
    for k in rows:
        click.echo(f"{k.id:>4} {k.prefix}  {k.user:<16} {k.status():<7} 범위 {','.join(k.scopes):<24} "
                   f"만료 {k.expires_at or '없음'}  최근 사용 {k.last_used_at or '-'}")


@keys.command("revoke")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
def keys_revoke(ident: str, as_json: bool) -> None:
    """키를 폐기합니다 (번호 또는 접두어 dsn_xxxxxxxx)."""
    d, actor = _directory(), _actor()
    k = d.find_key(ident)
    owner = d.get_user(k.user)
    if not _is_self(actor, owner):
        _check_manage_user(d, actor, owner)
    k = d.revoke_key(k.id)
    if as_json:
        _emit_json(k.as_dict())
    else:
        click.echo(f"키를 폐기했습니다: {k.id} {k.prefix} ({k.user})")


__all__ = ["departments", "keys", "users"]
