"""The users/departments/keys directory of the embedded (SQLite) store: the SQL behind
:class:`dasan.security.principals.Directory` (records, names, scopes and key format are defined
there). PostgreSQL's directory (:mod:`dasan.store.postgres.directory`) reuses these statements."""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from dasan.errors import (
    AlreadyExistsError,
    DirectoryError,
    InvalidNameError,
    NotEmptyError,
    NotFoundError,
    StoreError,
)
from dasan.security.principals import (
    _DUMMY_HASH,
    _KEY_RE,
    _PREFIX_RE,
    DEFAULT_KEY_DAYS,
    KEY_PREFIX,
    MAX_COLLECTION_CHARS,
    MAX_DEPTH,
    MAX_KEY_DAYS,
    MAX_NAME_CHARS,
    RESERVED_USER_NAMES,
    DepartmentRecord,
    Directory,
    KeyRecord,
    NewKey,
    UserRecord,
    _iso,
    _norm,
    _utcnow,
    hash_key,
    log,
    parse_level,
    parse_role,
    parse_scopes,
    validate_name,
)
from dasan.types import LEVELS


class SqliteDirectory(Directory):
    """The directory kept in the embedded (SQLite) store, on the connection and write lock the
    store hands it (``SqliteStore.directory``)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock | None = None) -> None:
        self._conn = conn
        self._lock = lock or threading.RLock()
        if self._conn.row_factory is None:
            self._conn.row_factory = sqlite3.Row
        ok = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()
        if not ok:
            raise StoreError("저장소에 사용자 표가 없습니다. 최신 버전의 dasan으로 저장소를 열어 마이그레이션을 적용하세요.")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- users ---------------------------------------------------------------------------
    def _user_row(self, name: str) -> sqlite3.Row | None:
        return self._conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()

    def _user_departments(self, user_id: int) -> tuple[str, ...]:
        rows = self._conn.execute(
            """SELECT d.name FROM user_departments ud JOIN departments d ON d.id = ud.department_id
               WHERE ud.user_id = ? ORDER BY d.name""", (user_id,)).fetchall()
        return tuple(r[0] for r in rows)

    def _to_user(self, row: sqlite3.Row) -> UserRecord:
        return UserRecord(id=row["id"], name=row["name"], clearance=row["clearance"], role=row["role"],
                          departments=self._user_departments(row["id"]), created_at=row["created_at"],
                          updated_at=row["updated_at"])

    def find_user(self, name: str) -> UserRecord | None:
        if not isinstance(name, str) or len(name) > 4 * MAX_NAME_CHARS:
            return None
        row = self._user_row(unicodedata.normalize("NFC", name).strip(" "))
        return self._to_user(row) if row else None

    def get_user(self, name: str) -> UserRecord:
        user = self.find_user(name)
        if user is None:
            raise NotFoundError(f"사용자를 찾을 수 없습니다: {str(name)[:MAX_NAME_CHARS]!r} (`dasan users list`로 확인하세요)")
        return user

    def add_user(self, name: str, clearance: str = LEVELS[0], role: str = "user",
                 departments: Iterable[str] = ()) -> UserRecord:
        name = validate_name(name, "사용자 이름")
        if name.lower() in RESERVED_USER_NAMES:
            raise InvalidNameError(f"'{name}'은(는) 예약된 이름입니다. 다른 사용자 이름을 쓰세요.")
        clearance, role = parse_level(clearance), parse_role(role)
        now = _iso(_utcnow())
        with self._tx() as c:
            if self._user_row(name):
                raise AlreadyExistsError(f"이미 있는 사용자입니다: {name}")
            dept_ids = [self._department_id(d) for d in departments]
            cur = c.execute("INSERT INTO users(name, clearance, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                            (name, clearance, role, now, now))
            for d in dict.fromkeys(dept_ids):
                c.execute("INSERT INTO user_departments(user_id, department_id) VALUES (?, ?)", (cur.lastrowid, d))
        return self.get_user(name)

    def list_users(self, department: str | None = None) -> list[UserRecord]:
        if department is None:
            rows = self._conn.execute("SELECT * FROM users ORDER BY name").fetchall()
        else:
            rows = self._conn.execute(
                """SELECT u.* FROM users u JOIN user_departments ud ON ud.user_id = u.id
                   WHERE ud.department_id = ? ORDER BY u.name""", (self._department_id(department),)).fetchall()
        return [self._to_user(r) for r in rows]

    def set_clearance(self, name: str, clearance: str) -> UserRecord:
        level, user = parse_level(clearance), self.get_user(name)
        with self._tx() as c:
            c.execute("UPDATE users SET clearance = ?, updated_at = ? WHERE id = ?", (level, _iso(_utcnow()), user.id))
        return self.get_user(user.name)

    def set_role(self, name: str, role: str) -> UserRecord:
        role, user = parse_role(role), self.get_user(name)
        with self._tx() as c:
            c.execute("UPDATE users SET role = ?, updated_at = ? WHERE id = ?", (role, _iso(_utcnow()), user.id))
        return self.get_user(user.name)

    def join_department(self, name: str, department: str) -> UserRecord:
        user = self.get_user(name)
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO user_departments(user_id, department_id) VALUES (?, ?)",
                      (user.id, self._department_id(department)))
            c.execute("UPDATE users SET updated_at = ? WHERE id = ?", (_iso(_utcnow()), user.id))
        return self.get_user(user.name)

    def leave_department(self, name: str, department: str) -> UserRecord:
        user = self.get_user(name)
        with self._tx() as c:
            cur = c.execute("DELETE FROM user_departments WHERE user_id = ? AND department_id = ?",
                            (user.id, self._department_id(department)))
            if cur.rowcount == 0:
                raise NotFoundError(f"{user.name}은(는) {department} 소속이 아닙니다.")
            c.execute("UPDATE users SET updated_at = ? WHERE id = ?", (_iso(_utcnow()), user.id))
        return self.get_user(user.name)

    def remove_user(self, name: str) -> None:
        """Deletes the user, their memberships and all their API keys."""
        user = self.get_user(name)
        with self._tx() as c:
            c.execute("DELETE FROM users WHERE id = ?", (user.id,))

    # -- departments ---------------------------------------------------------------------
    def _department_row(self, name: str) -> sqlite3.Row | None:
        if not isinstance(name, str) or len(name) > 4 * MAX_NAME_CHARS:
            return None
        return self._conn.execute(
            "SELECT * FROM departments WHERE name = ?", (unicodedata.normalize("NFC", name).strip(" "),)
        ).fetchone()

    def _department_id(self, name: str) -> int:
        row = self._department_row(name)
        if row is None:
            raise NotFoundError(f"부서를 찾을 수 없습니다: {str(name)[:MAX_NAME_CHARS]!r} (`dasan departments list`로 확인하세요)")
        return int(row["id"])

    def find_department(self, name: str) -> DepartmentRecord | None:
        found = self._department_row(name)
        if found is None:
            return None
        row = self._conn.execute(
            """SELECT d.id, d.name, p.name AS parent, d.created_at FROM departments d
               LEFT JOIN departments p ON p.id = d.parent_id WHERE d.id = ?""", (found["id"],)
        ).fetchone()
        return DepartmentRecord(id=row["id"], name=row["name"], parent=row["parent"], created_at=row["created_at"])

    def get_department(self, name: str) -> DepartmentRecord:
        self._department_id(name)  # raises NotFoundError with the Korean message
        dept = self.find_department(name)
        assert dept is not None
        return dept

    def add_department(self, name: str, parent: str | None = None) -> DepartmentRecord:
        name = validate_name(name, "부서 이름")
        with self._tx() as c:
            if self._department_row(name):
                raise AlreadyExistsError(f"이미 있는 부서입니다: {name}")
            parent_id = None
            if parent is not None:
                parent_id = self._department_id(parent)
                if len(self.ancestors(parent)) + 1 >= MAX_DEPTH:
                    raise DirectoryError(f"부서 단계가 너무 깊습니다 (최대 {MAX_DEPTH}단계). 상위 부서를 다시 고르세요.")
            c.execute("INSERT INTO departments(name, parent_id, created_at) VALUES (?, ?, ?)",
                      (name, parent_id, _iso(_utcnow())))
        return self.get_department(name)

    def list_departments(self) -> list[DepartmentRecord]:
        rows = self._conn.execute(
            """SELECT d.id, d.name, p.name AS parent, d.created_at FROM departments d
               LEFT JOIN departments p ON p.id = d.parent_id ORDER BY d.name""").fetchall()
        return [DepartmentRecord(id=r["id"], name=r["name"], parent=r["parent"], created_at=r["created_at"])
                for r in rows]

    def _children_map(self) -> dict[str | None, list[str]]:
        out: dict[str | None, list[str]] = {}
        for d in self.list_departments():
            out.setdefault(d.parent, []).append(d.name)
        return out

    def subtree(self, name: str) -> list[str]:
        """The department and all its (transitive) sub-departments, parent first."""
        root = self.get_department(name).name
        children = self._children_map()
        out: list[str] = []
        stack = [(root, 0)]
        while stack:
            d, depth = stack.pop()
            if d in out or depth > MAX_DEPTH:
                continue
            out.append(d)
            stack.extend((c, depth + 1) for c in reversed(children.get(d, [])))
        return out

    def ancestors(self, name: str) -> list[str]:
        """Parent, grandparent, ... of the department (nearest first)."""
        parents = {d.name: d.parent for d in self.list_departments()}
        out: list[str] = []
        cur = parents.get(self.get_department(name).name)
        while cur is not None and cur not in out and len(out) <= MAX_DEPTH:
            out.append(cur)
            cur = parents.get(cur)
        return out

    def department_tree(self) -> list[dict[str, Any]]:
        """Nested ``{"name", "members", "collections", "children"}`` dicts, roots first."""
        children = self._children_map()
        members = {r[0]: r[1] for r in self._conn.execute(
            """SELECT d.name, COUNT(ud.user_id) FROM departments d
               LEFT JOIN user_departments ud ON ud.department_id = d.id GROUP BY d.id""")}
        owned: dict[str, list[str]] = {}
        for coll, depts in self.collection_owners().items():
            for d in depts:
                owned.setdefault(d, []).append(coll)

        def node(name: str, depth: int) -> dict[str, Any]:
            kids = children.get(name, []) if depth < MAX_DEPTH else []
            return {"name": name, "members": members.get(name, 0), "collections": sorted(owned.get(name, [])),
                    "children": [node(k, depth + 1) for k in kids]}

        return [node(r, 0) for r in children.get(None, [])]

    def members(self, department: str) -> list[str]:
        return [u.name for u in self.list_users(department)]

    def remove_department(self, name: str) -> None:
        """Refuses while the department has sub-departments, members or collections."""
        dept_id = self._department_id(name)
        with self._tx() as c:
            problems = []
            for sql, what in (("SELECT COUNT(*) FROM departments WHERE parent_id = ?", "하위 부서 {}개"),
                              ("SELECT COUNT(*) FROM user_departments WHERE department_id = ?", "구성원 {}명"),
                              ("SELECT COUNT(*) FROM collection_departments WHERE department_id = ?", "소유 컬렉션 {}개")):
                n = c.execute(sql, (dept_id,)).fetchone()[0]
                if n:
                    problems.append(what.format(n))
            if problems:
                raise NotEmptyError(f"부서 {_norm(name)}을(를) 지울 수 없습니다 (남은 것: {', '.join(problems)}). "
                                    "하위 부서를 먼저 지우고, 구성원은 `dasan users leave`, "
                                    "컬렉션은 `dasan departments unassign-collection`으로 정리하세요.")
            c.execute("DELETE FROM departments WHERE id = ?", (dept_id,))

    # -- collections ---------------------------------------------------------------------
    def assign_collection(self, collection: str, department: str) -> None:
        """Makes ``department`` an owner of ``collection`` (the collection need not exist yet)."""
        collection = validate_name(collection, "컬렉션 이름", MAX_COLLECTION_CHARS)
        with self._tx() as c:
            c.execute("INSERT OR IGNORE INTO collection_departments(collection, department_id) VALUES (?, ?)",
                      (collection, self._department_id(department)))

    def unassign_collection(self, collection: str, department: str) -> None:
        with self._tx() as c:
            cur = c.execute("DELETE FROM collection_departments WHERE collection = ? AND department_id = ?",
                            (_norm(collection), self._department_id(department)))
            if cur.rowcount == 0:
                raise NotFoundError(f"컬렉션 {_norm(collection)}은(는) 부서 {_norm(department)} 소유가 아닙니다.")

    def collection_owners(self) -> dict[str, tuple[str, ...]]:
        """Owned collections and their owning departments (unowned collections are absent)."""
        out: dict[str, list[str]] = {}
        for r in self._conn.execute(
            """SELECT cd.collection, d.name FROM collection_departments cd
               JOIN departments d ON d.id = cd.department_id ORDER BY cd.collection, d.name"""):
            out.setdefault(r[0], []).append(r[1])
        return {k: tuple(v) for k, v in out.items()}

    def collection_levels(self) -> dict[str, str]:
        """Existing collections and their classification level."""
        return {r[0]: r[1] for r in self._conn.execute("SELECT name, level FROM collections")}

    # -- API keys ------------------------------------------------------------------------
    def _to_key(self, row: sqlite3.Row) -> KeyRecord:
        return KeyRecord(id=row["id"], user=row["user"], prefix=row["prefix"],
                         scopes=tuple(s for s in row["scopes"].split(",") if s), created_at=row["created_at"],
                         expires_at=row["expires_at"], revoked_at=row["revoked_at"],
                         last_used_at=row["last_used_at"])

    _KEY_SELECT = "SELECT k.*, u.name AS user FROM api_keys k JOIN users u ON u.id = k.user_id"

    def create_key(self, user: str, scopes: Iterable[str], expires_days: int | None = DEFAULT_KEY_DAYS,
                   now: datetime | None = None) -> NewKey:
        """A new key for ``user``; ``expires_days=None`` never expires."""
        rec = self.get_user(user)
        scope_t = parse_scopes(scopes)
        if not scope_t:
            raise DirectoryError("키 범위가 비어 있습니다. --scope를 하나 이상 지정하세요.")
        if expires_days is not None and not 1 <= expires_days <= MAX_KEY_DAYS:
            raise DirectoryError(f"만료 기간은 1일에서 {MAX_KEY_DAYS}일 사이여야 합니다.")
        t = now or _utcnow()
        expires = _iso(t + timedelta(days=expires_days)) if expires_days is not None else None
        with self._tx() as c:
            for _ in range(8):
                prefix = KEY_PREFIX + secrets.token_hex(4)
                if not c.execute("SELECT 1 FROM api_keys WHERE prefix = ?", (prefix,)).fetchone():
                    break
            else:  # pragma: no cover - 2^32 prefixes
                raise StoreError("키 접두어를 만들지 못했습니다. 다시 시도하세요.")
            key = f"{prefix}_{secrets.token_urlsafe(32)}"
            cur = c.execute(
                "INSERT INTO api_keys(user_id, prefix, hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (rec.id, prefix, hash_key(key), ",".join(scope_t), _iso(t), expires))
            row = c.execute(self._KEY_SELECT + " WHERE k.id = ?", (cur.lastrowid,)).fetchone()
        return NewKey(key=key, record=self._to_key(row))

    def list_keys(self, user: str | None = None) -> list[KeyRecord]:
        if user is None:
            rows = self._conn.execute(self._KEY_SELECT + " ORDER BY k.id").fetchall()
        else:
            rows = self._conn.execute(self._KEY_SELECT + " WHERE k.user_id = ? ORDER BY k.id",
                                      (self.get_user(user).id,)).fetchall()
        return [self._to_key(r) for r in rows]

    def find_key(self, ident: str | int) -> KeyRecord:
        """A key by numeric id, public prefix (``dsn_1a2b3c4d``) or the full key."""
        text = str(ident).strip()
        row = None
        if text.isdigit() and len(text) < 19:
            row = self._conn.execute(self._KEY_SELECT + " WHERE k.id = ?", (int(text),)).fetchone()
        elif _PREFIX_RE.match(text[:12]):
            row = self._conn.execute(self._KEY_SELECT + " WHERE k.prefix = ?", (text[:12],)).fetchone()
        if row is None:
            raise NotFoundError(f"API 키를 찾을 수 없습니다: {text[:12]!r} (`dasan keys list`로 번호나 접두어를 확인하세요)")
        return self._to_key(row)

    def revoke_key(self, ident: str | int, now: datetime | None = None) -> KeyRecord:
        rec = self.find_key(ident)
        with self._tx() as c:
            c.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                      (_iso(now or _utcnow()), rec.id))
        return self.find_key(rec.id)

    def match_key(self, key: object) -> KeyRecord | None:
        """The key record whose stored hash matches ``key`` (constant-time compare), else None."""
        if not isinstance(key, str) or len(key) > 256:
            return None
        key = key.strip()
        if not _KEY_RE.fullmatch(key):
            return None
        row = self._conn.execute(self._KEY_SELECT + " WHERE k.prefix = ?", (key[:12],)).fetchone()
        stored = row["hash"] if row else _DUMMY_HASH
        ok = hmac.compare_digest(stored, hash_key(key))
        return self._to_key(row) if row and ok else None

    def touch_key(self, key_id: int, now: datetime | None = None, min_interval_s: int = 60) -> None:
        """Records use of a key, at most once per ``min_interval_s`` (avoids a write per request)."""
        t = now or _utcnow()
        cutoff = _iso(t - timedelta(seconds=min_interval_s))
        row = self._conn.execute("SELECT last_used_at FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None or (row[0] is not None and row[0] >= cutoff):
            return  # used within the interval: no write (and no write lock) per request
        try:
            with self._tx() as c:
                c.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                          (_iso(t), key_id, cutoff))
        except sqlite3.OperationalError as e:
            # "last used" is bookkeeping, not an access decision: a store busy with a long
            # ingest must not turn a valid key into a server error (the next request records it)
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            log.warning("could not record the use of API key %s now (%s)", key_id, e)
