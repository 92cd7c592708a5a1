"""Principals: directory storage, API keys, access policy and the admin CLI."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from dasan.errors import (
    AlreadyExistsError,
    DasanError,
    DirectoryError,
    InvalidKeyError,
    InvalidNameError,
    KeyExpiredError,
    KeyRevokedError,
    NotEmptyError,
    NotFoundError,
    PermissionDeniedError,
)
from dasan.security.access import (
    allowed_collections,
    authenticate_key,
    can,
    can_manage_user,
    check_key_scopes,
    level_allows,
    require,
    resolve_principal,
)
from dasan.security.admin_cli import departments, keys, users
from dasan.security.principals import Directory
from dasan.store import open_store
from dasan.types import Principal

HOSTILE = ["x'; DROP TABLE users;--", 'Robert"); DELETE FROM api_keys; --', "%", "_", "a\\b", "' OR '1'='1"]


@pytest.fixture
def store(data_dir: Path):
    s = open_store(data_dir)
    yield s
    s.close()


@pytest.fixture
def d(store) -> Directory:
    return Directory.from_store(store)


@pytest.fixture
def org(store, d: Directory) -> Directory:
    """본부 > 과A > 팀A1, 본부 > 과B; collections of every kind of ownership and level."""
    d.add_department("본부")
    d.add_department("과A", parent="본부")
    d.add_department("팀A1", parent="과A")
    d.add_department("과B", parent="본부")
    for name, level in [("공용", "공개"), ("a-docs", "공개"), ("a1-docs", "공개"), ("b-docs", "공개"),
                        ("hq", "공개"), ("a-secret", "기밀"), ("unowned-secret", "기밀"), ("a-sensitive", "민감")]:
        store.ensure_collection(name, level)
    for coll, dept in [("a-docs", "과A"), ("a1-docs", "팀A1"), ("b-docs", "과B"), ("hq", "본부"),
                       ("a-secret", "과A"), ("a-sensitive", "과A")]:
        d.assign_collection(coll, dept)
    d.add_user("alice", "민감", "user", ["과A"])
    d.add_user("bob", "기밀", "user", ["본부"])
    d.add_user("carol", "기밀", "manager", ["본부"])
    d.add_user("dave", "민감", "auditor", ["과B"])
    d.add_user("erin", "공개", "admin")
    d.add_user("frank", "공개", "user")
    return d


# -- storage ------------------------------------------------------------------------------
def test_migration_applied_once(data_dir: Path) -> None:
    s = open_store(data_dir)
    assert s.schema_version() >= 3
    Directory.from_store(s).add_user("kim", "공개")
    s.close()
    s = open_store(data_dir)  # reopening must not re-run 0003 (would fail on CREATE TABLE)
    assert Directory.from_store(s).get_user("kim").clearance == "공개"
    tables = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "departments", "user_departments", "api_keys", "collection_departments"} <= tables
    s.close()


def test_users_crud_and_validation(d: Directory) -> None:
    d.add_department("정보화담당관")
    u = d.add_user("홍길동", "S", "user", ["정보화담당관", "정보화담당관"])
    assert (u.clearance, u.role, u.departments) == ("민감", "user", ("정보화담당관",))
    with pytest.raises(AlreadyExistsError):
        d.add_user("홍길동", "공개")
    d.add_user("Alice", "공개")
    with pytest.raises(AlreadyExistsError):
        d.add_user("alice", "공개")  # names compare case-insensitively
    assert d.get_user("ALICE").name == "Alice"
    for bad in ["", "   ", "a\nb", "a\x00b", "tab\there", "zero\u200bwidth", "rtl\u202eevil", "nb\u00a0sp",
                "x" * 65, "operator", "OPERATOR"]:
        with pytest.raises(InvalidNameError) as e:
            d.add_user(bad, "공개")
        assert any("\uac00" <= ch <= "\ud7a3" for ch in e.value.message)  # Korean message
    with pytest.raises(DirectoryError):
        d.add_user("x", "대외비")
    with pytest.raises(DirectoryError):
        d.add_user("x", "공개", role="root")
    with pytest.raises(NotFoundError):
        d.add_user("x", "공개", departments=["없는부서"])
    assert d.find_user("x") is None  # nothing half-written
    assert d.set_clearance("홍길동", "기밀").clearance == "기밀"
    assert d.set_role("홍길동", "auditor").role == "auditor"
    assert d.leave_department("홍길동", "정보화담당관").departments == ()
    with pytest.raises(NotFoundError):
        d.leave_department("홍길동", "정보화담당관")
    d.remove_user("홍길동")
    with pytest.raises(NotFoundError):
        d.get_user("홍길동")


def test_hostile_names_are_data_not_sql(store, d: Directory) -> None:
    for i, name in enumerate(HOSTILE):
        d.add_department(name)
        d.add_user(name, "공개", departments=[name])
        d.assign_collection(name, name)
        d.create_key(name, ["search"])
        assert d.get_user(name).departments == (name,)
        assert d.get_department(name).name == name
        assert len(d.list_users()) == i + 1
    assert d.find_user("%x") is None and d.find_user("Robert") is None  # no LIKE/injection matches
    assert d.collection_owners()[HOSTILE[0]] == (HOSTILE[0],)
    assert len(d.list_keys()) == len(HOSTILE)
    tables = {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "api_keys", "departments"} <= tables
    store.ensure_collection(HOSTILE[0])
    p = resolve_principal(d, HOSTILE[0])
    assert HOSTILE[0] in (allowed_collections(d, p) or set())
    res = CliRunner().invoke(users, ["show", HOSTILE[0], "--json"], obj=_Obj(store))
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["name"] == HOSTILE[0]


def test_departments_nesting_and_rm(d: Directory) -> None:
    d.add_department("본부")
    d.add_department("과A", parent="본부")
    d.add_department("팀A1", parent="과A")
    d.add_department("과B", parent="본부")
    assert d.subtree("본부") == ["본부", "과A", "팀A1", "과B"]
    assert d.subtree("과A") == ["과A", "팀A1"]
    assert d.ancestors("팀A1") == ["과A", "본부"]
    tree = d.department_tree()
    assert [n["name"] for n in tree] == ["본부"]
    assert [c["name"] for c in tree[0]["children"]] == ["과A", "과B"]
    with pytest.raises(NotFoundError):
        d.add_department("x", parent="없음")
    with pytest.raises(AlreadyExistsError):
        d.add_department("과a")
    with pytest.raises(NotEmptyError, match="하위 부서"):
        d.remove_department("본부")
    d.add_user("kim", "공개", departments=["과B"])
    with pytest.raises(NotEmptyError, match="구성원"):
        d.remove_department("과B")
    d.remove_user("kim")
    d.assign_collection("b-docs", "과B")
    with pytest.raises(NotEmptyError, match="컬렉션"):
        d.remove_department("과B")
    d.unassign_collection("b-docs", "과B")
    d.remove_department("과B")
    assert [x.name for x in d.list_departments()] == ["과A", "본부", "팀A1"]


def test_department_depth_is_limited(d: Directory) -> None:
    d.add_department("d0")
    with pytest.raises(DirectoryError, match="깊습니다"):
        for i in range(1, 40):
            d.add_department(f"d{i}", parent=f"d{i - 1}")
    assert len(d.ancestors(d.list_departments()[-1].name)) < 16


# -- API keys -----------------------------------------------------------------------------
def test_key_lifecycle(store, data_dir: Path, d: Directory) -> None:
    d.add_user("kim", "민감", "user")
    new = d.create_key("kim", ["search", "ask"])
    key, rec = new.key, new.record
    assert key.startswith("dsn_") and len(key) == 56 and rec.prefix == key[:12]
    row = store._conn.execute("SELECT * FROM api_keys").fetchone()
    assert key not in " ".join(str(v) for v in tuple(row)) and key[13:] not in row["hash"]
    store._conn.execute("PRAGMA wal_checkpoint(FULL)")
    assert key[13:].encode() not in (data_dir / "dasan.db").read_bytes()

    p = authenticate_key(d, key)
    assert (p.name, p.clearance, p.roles, p.scopes, p.key_prefix) == ("kim", "민감", ("user",), ("search", "ask"),
                                                                      rec.prefix)
    assert d.find_key(rec.prefix).last_used_at is not None
    assert can(p, "search") and not can(p, "docs")  # role allows docs, key scope does not

    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in [tampered, "dsn_", "", "x" * 10_000, key + "x", None, 42, "dsn_00000000_" + "a" * 43]:
        with pytest.raises(InvalidKeyError):
            authenticate_key(d, bad)  # type: ignore[arg-type]
    assert authenticate_key(d, f"  {key}\n").name == "kim"

    later = datetime.now(UTC) + timedelta(days=91)
    with pytest.raises(KeyExpiredError, match="만료"):
        authenticate_key(d, key, now=later)
    d.revoke_key(rec.prefix)
    with pytest.raises(KeyRevokedError, match="폐기"):
        authenticate_key(d, key)
    assert d.find_key(str(rec.id)).status() == "revoked"

    k2 = d.create_key("kim", ["search"], expires_days=None).key
    assert authenticate_key(d, k2, now=datetime.now(UTC) + timedelta(days=10_000)).name == "kim"
    d.remove_user("kim")
    d.add_user("kim", "기밀", "admin")  # same name again: old keys stay dead
    with pytest.raises(InvalidKeyError):
        authenticate_key(d, k2)
    with pytest.raises(NotFoundError):
        d.find_key("dsn_zzzz")
    with pytest.raises(DirectoryError):
        d.create_key("kim", ["root"])
    with pytest.raises(DirectoryError):
        d.create_key("kim", ["search"], expires_days=0)


def test_key_scopes_follow_role() -> None:
    assert check_key_scopes("user", []) == ("search", "ask", "docs")
    assert check_key_scopes("auditor", []) == ("search", "ask", "docs", "audit")
    assert check_key_scopes("admin", []) == ("search", "ask", "docs", "audit")  # admin scope only when asked
    assert check_key_scopes("admin", ["admin"]) == ("admin",)
    with pytest.raises(PermissionDeniedError):
        check_key_scopes("user", ["admin"])
    with pytest.raises(PermissionDeniedError):
        check_key_scopes("manager", ["audit"])


# -- policy -------------------------------------------------------------------------------
def test_role_matrix() -> None:
    table = {
        "admin": {"search", "ask", "docs", "ingest", "audit", "manage"},
        "manager": {"search", "ask", "docs", "ingest", "manage"},
        "user": {"search", "ask", "docs"},
        "auditor": {"search", "ask", "docs", "audit"},
    }
    for role, allowed in table.items():
        p = Principal("p", roles=(role,))
        assert {a for a in ("search", "ask", "docs", "ingest", "audit", "manage", "nonsense") if can(p, a)} == allowed
    assert can(Principal.operator(), "manage")
    keyed = Principal("p", roles=("admin",), scopes=("search",), key_prefix="dsn_12345678")
    assert can(keyed, "search") and not can(keyed, "manage")
    with pytest.raises(PermissionDeniedError, match="dsn_12345678"):
        require(keyed, "manage")
    with pytest.raises(PermissionDeniedError, match="권한"):
        require(Principal("p"), "audit")
    assert level_allows("민감", "공개") and level_allows("민감", "민감") and not level_allows("민감", "기밀")
    assert level_allows("기밀", "대외비")  # unknown level = highest: only top clearance
    assert not level_allows("민감", "unknown") and not level_allows("nonsense", "공개")


def test_allowed_collections_rules(org: Directory) -> None:
    def sees(name: str) -> set[str] | None:
        return allowed_collections(org, resolve_principal(org, name))

    # Direct members only; no inheritance from the parent (hq) or into children (a1-docs);
    # clearance hides a-secret (기밀) from a 민감 user; unowned 공용 is visible to everybody.
    assert sees("alice") == {"공용", "a-docs", "a-sensitive"}
    # A member of the parent department does not see its children's collections.
    assert sees("bob") == {"공용", "hq", "unowned-secret"}
    # A manager reaches their department and every sub-department.
    assert sees("carol") == {"공용", "hq", "a-docs", "a1-docs", "b-docs", "a-secret", "a-sensitive",
                             "unowned-secret"}
    # Auditors read like users (own department, own clearance).
    assert sees("dave") == {"공용", "b-docs"}
    assert sees("erin") is None  # admin: all
    assert sees("frank") == {"공용"}  # no department, 공개 clearance
    assert allowed_collections(org, Principal.operator()) is None
    assert resolve_principal(org, "operator") == Principal.operator()


def test_ownership_set_before_first_ingest(store, org: Directory) -> None:
    org.assign_collection("new-private", "과B")
    assert "new-private" not in (allowed_collections(org, resolve_principal(org, "frank")) or set())
    store.ensure_collection("new-private")
    assert "new-private" not in (allowed_collections(org, resolve_principal(org, "frank")) or set())
    assert "new-private" in (allowed_collections(org, resolve_principal(org, "dave")) or set())
    org.unassign_collection("new-private", "과B")  # last owner gone: public within clearance
    assert "new-private" in (allowed_collections(org, resolve_principal(org, "frank")) or set())


def test_manager_reach(org: Directory) -> None:
    carol = resolve_principal(org, "carol")
    assert can_manage_user(org, carol, org.get_user("alice"))
    assert not can_manage_user(org, carol, org.get_user("dave"))  # auditors are not managed by managers
    assert not can_manage_user(org, carol, org.get_user("frank"))  # no department
    assert not can_manage_user(org, carol, org.get_user("carol"))
    assert not can_manage_user(org, resolve_principal(org, "alice"), org.get_user("alice"))
    assert can_manage_user(org, Principal.operator(), org.get_user("erin"))


# -- CLI ----------------------------------------------------------------------------------
@dataclass
class _Obj:
    store: object
    principal: Principal | None = None


def _run(group, args: list[str], obj: object, ok: bool = True):
    res = CliRunner().invoke(group, args, obj=obj)
    if ok:
        assert res.exit_code == 0, (res.output, res.exception)
    return res


def test_cli_operator_flow(data_dir: Path) -> None:
    from dasan.cli import Ctx

    obj = Ctx(str(data_dir))
    _run(departments, ["add", "기획조정실"], obj)
    _run(departments, ["add", "정보화담당관", "--parent", "기획조정실"], obj)
    out = _run(users, ["add", "홍길동", "--clearance", "민감", "--department", "기획조정실",
                       "--department", "정보화담당관", "--json"], obj).output
    assert json.loads(out)["departments"] == ["기획조정실", "정보화담당관"]
    tree = _run(departments, ["list"], obj).output
    assert tree.splitlines()[0].startswith("기획조정실") and "└─ 정보화담당관" in tree
    assert json.loads(_run(departments, ["list", "--json"], obj).output)[0]["children"][0]["name"] == "정보화담당관"

    created = json.loads(_run(keys, ["create", "--user", "홍길동", "--scope", "search", "--json"], obj).output)
    key = created["key"]
    assert key.startswith("dsn_") and created["scopes"] == ["search"]
    listing = _run(keys, ["list", "--json"], obj).output + _run(keys, ["list"], obj).output
    assert key[13:] not in listing and created["prefix"] in listing
    d = Directory.from_store(obj.store)
    assert authenticate_key(d, key).name == "홍길동"
    _run(keys, ["revoke", created["prefix"]], obj)
    with pytest.raises(KeyRevokedError):
        authenticate_key(d, key)

    _run(departments, ["assign-collection", "laws", "정보화담당관"], obj)
    res = _run(departments, ["rm", "정보화담당관"], obj, ok=False)
    assert isinstance(res.exception, NotEmptyError)
    res = _run(users, ["add", "x\x1by", "--clearance", "공개"], obj, ok=False)
    assert isinstance(res.exception, InvalidNameError)
    res = _run(users, ["add", "y", "--clearance", "일급"], obj, ok=False)
    assert isinstance(res.exception, DasanError) and "등급" in str(res.exception)
    _run(users, ["set-clearance", "홍길동", "C"], obj)
    assert json.loads(_run(users, ["show", "홍길동", "--json"], obj).output)["clearance"] == "기밀"
    _run(users, ["rm", "홍길동"], obj)
    assert _run(users, ["list", "--json"], obj).output.strip() == "[]"
    obj.store.close()


def test_cli_enforces_roles(store, org: Directory) -> None:
    def as_(name: str) -> _Obj:
        return _Obj(store, resolve_principal(org, name))

    carol = as_("carol")  # manager of 본부 (기밀)
    _run(users, ["add", "gina", "--clearance", "민감", "--department", "팀A1"], carol)
    _run(users, ["set-clearance", "gina", "기밀"], carol)
    _run(departments, ["add", "팀B1", "--parent", "과B"], carol)
    key = json.loads(_run(keys, ["create", "--user", "gina", "--json"], carol).output)["key"]
    assert authenticate_key(org, key).name == "gina"
    for args in (["set-role", "gina", "admin"], ["set-clearance", "dave", "공개"], ["rm", "erin"],
                 ["add", "h", "--clearance", "공개"], ["add", "h", "--clearance", "공개", "--role", "manager",
                                                       "--department", "과A"]):
        res = _run(users, args, carol, ok=False)
        assert isinstance(res.exception, PermissionDeniedError), args
    res = _run(departments, ["assign-collection", "hq", "과A"], carol, ok=False)
    assert isinstance(res.exception, PermissionDeniedError)

    alice = as_("alice")  # plain user: own keys only
    for group, args in ((users, ["list"]), (departments, ["list"]), (users, ["show", "bob"]),
                        (keys, ["create", "--user", "bob"]), (departments, ["add", "z"])):
        res = _run(group, args, alice, ok=False)
        assert isinstance(res.exception, PermissionDeniedError), args
    _run(users, ["show", "alice"], alice)
    own = json.loads(_run(keys, ["create", "--user", "alice", "--json"], alice).output)
    assert [k["user"] for k in json.loads(_run(keys, ["list", "--json"], alice).output)] == ["alice"]
    res = _run(keys, ["create", "--user", "alice", "--scope", "admin"], alice, ok=False)
    assert isinstance(res.exception, PermissionDeniedError)
    res = _run(keys, ["revoke", json.loads(_run(keys, ["list", "--json"], carol).output)[0]["prefix"]], alice,
               ok=False)
    assert isinstance(res.exception, PermissionDeniedError)
    _run(keys, ["revoke", own["prefix"]], alice)

    keyed = _Obj(store, authenticate_key(org, key))  # gina via a search/ask/docs key
    res = _run(keys, ["create", "--user", "gina", "--scope", "search", "--scope", "ask", "--scope", "docs",
                      "--never-expires"], keyed, ok=False)
    assert isinstance(res.exception, PermissionDeniedError)

    dave = as_("dave")  # auditor: reads the directory, changes nothing
    assert len(json.loads(_run(users, ["list", "--json"], dave).output)) == 7
    res = _run(users, ["set-clearance", "alice", "공개"], dave, ok=False)
    assert isinstance(res.exception, PermissionDeniedError)


def test_directory_requires_sqlite_store(tmp_path: Path) -> None:
    with pytest.raises(DasanError):
        Directory.from_store(object())
    conn = sqlite3.connect(tmp_path / "empty.db")
    from dasan.store.directory import SqliteDirectory

    with pytest.raises(DasanError, match="마이그레이션"):
        SqliteDirectory(conn)
    conn.close()
