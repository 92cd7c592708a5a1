"""Tamper-evident audit log: an append-only, hash-chained record of who did what.

Every login, key use, search, answer (with the chunk ids shown and the backend used), upload,
delete and permission change is appended here *before* the result reaches anyone. A failure to
append raises :class:`AuditError`, so the caller stops instead of running unlogged.

Storage
-------
``<data_dir>/audit.db`` is its own SQLite file (WAL), separate from the document store. By
default every append is fsynced before it returns (``synchronous=FULL``): an operation whose
entry was acknowledged cannot lose it to a power cut. ``DASAN_AUDIT_SYNC=normal`` (or
``durable=False``) skips that fsync for roughly ten times the append rate on slow disks; a power
cut (not a process crash) may then lose the newest entries, which ``verify`` reports as a
truncated tail. Tables: ``meta(key, value)`` holding ``schema_version`` (``"1"``), ``hash_alg``
(``"sha256"`` or ``"hmac-sha256"``) and, for keyed logs, ``key_check``; and ``entries(seq, ts,
actor, action, target, details, parent, hash)``. ``seq`` runs 1..n without gaps. ``ts`` is UTC
``YYYY-MM-DDTHH:MM:SS.mmmZ`` and never decreases (an entry takes ``max(now, previous ts)``).

Canonical form (what an auditor re-implements)
----------------------------------------------
``details`` is stored as the canonical JSON text of a JSON object. The hashed bytes of an entry
are the canonical JSON of the object::

    {"action": str, "actor": str, "details": <object>, "parent": str, "seq": int,
     "target": str, "ts": str, "v": 1}

where canonical JSON means Python's ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8: keys sorted by code point at every level, no whitespace,
non-ASCII characters written as themselves (UTF-8), only ``"``, ``\\``, and control characters
escaped (``\\n``, ``\\t``, ... and ``\\u00XX``), integers in decimal. No Unicode normalisation is
applied. Because the ``details`` column already holds that canonical text, a verifier may splice
it verbatim between ``"details":`` and ``,"parent":`` instead of re-serialising it (no float
formatting questions arise that way). ``parent`` is the previous entry's ``hash``; the first
entry's parent is 64 zeros. ``hash`` is the lowercase hex SHA-256 of those bytes, or, when the
log was created with a key (env ``DASAN_AUDIT_KEY``), HMAC-SHA256 with that key (UTF-8 bytes).
``key_check`` is the first 16 hex digits of HMAC-SHA256(key, ``b"dasan-audit-key-check"``).

Anchor
------
Deleting the last entries leaves a valid shorter chain, so the newest ``(seq, hash)`` is also
written outside the database to ``<data_dir>/audit.head`` after every append. The file has two
fixed-size (192-byte) slots written alternately (slot ``seq % 2``); each slot is one line
``{"hash":...,"seq":n,"v":1} <first 16 hex of sha256(json)>`` padded with spaces and a newline,
so a torn write damages only one slot. The valid slot with the larger ``seq`` is the head. The
head is a *lower bound*: it is written after the commit, so it may lag the database (a crash or
a concurrent writer) but, with durable appends, is never ahead of it. ``verify`` reports entries missing after the
head's ``seq`` as a truncated tail, and a head hash that no row carries as an edited entry.
Appending refuses to continue a log whose tail does not match its head (or whose last entry
does not verify), so new entries cannot paper over a truncation; ``reanchor`` records the
mismatch in the log itself and starts a new anchor (an administrator's decision).

Limits (stated honestly)
------------------------
* Without a key, anyone who can write ``audit.db`` *and* ``audit.head`` can rebuild a fully
  consistent forged chain: plain hashes prove internal consistency, not authorship.
* With ``DASAN_AUDIT_KEY`` an attacker without the key cannot forge or edit entries, but one
  with write access to both files can still cut the tail and roll ``audit.head`` back to an
  earlier (seq, hash) pair copied from the log; nothing stored on the same machine can prevent
  that. Ship ``dasan audit export`` output (or the head line) regularly to a system the
  attacker does not control (WORM storage, another host, print) to bound that window.
* With durable appends a crash can only lose an entry whose ``append`` had not returned, i.e.
  one whose operation had not started: entries are written first (see :func:`audited`, which
  writes an intent entry before the operation and an outcome entry, with e.g. the chunk ids
  shown and the backend, before the result may be shown).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import json
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dasan.errors import AuditError
from dasan.sqliteutil import retry_locked

DB_NAME = "audit.db"
HEAD_NAME = "audit.head"
SCHEMA_VERSION = 1
FORMAT_VERSION = 1
GENESIS = "0" * 64
KEY_ENV = "DASAN_AUDIT_KEY"
SYNC_ENV = "DASAN_AUDIT_SYNC"
HEAD_SLOT = 192
MAX_STRING = 8192
MAX_DETAILS_BYTES = 1024 * 1024
_ACTION_RE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}")
_COLUMNS = "seq, ts, actor, action, target, details, parent, hash"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    parent TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_hash ON entries(hash);
CREATE INDEX IF NOT EXISTS entries_ts ON entries(ts);
"""


# -- canonical form --------------------------------------------------------------------------
def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(*, seq: int, ts: str, actor: str, action: str, target: str, parent: str,
                    details_text: str) -> bytes:
    """The hashed bytes of an entry, splicing the stored canonical ``details`` text verbatim."""
    d = json.dumps
    text = (f'{{"action":{d(action, ensure_ascii=False)},"actor":{d(actor, ensure_ascii=False)},'
            f'"details":{details_text},"parent":{d(parent, ensure_ascii=False)},"seq":{int(seq)},'
            f'"target":{d(target, ensure_ascii=False)},"ts":{d(ts, ensure_ascii=False)},'
            f'"v":{FORMAT_VERSION}}}')
    return text.encode("utf-8")


def entry_hash(entry: Mapping[str, Any], key: bytes | None = None) -> str:
    """Hash of an exported entry dict (``details`` as an object), for independent checks."""
    obj = {k: entry[k] for k in ("seq", "ts", "actor", "action", "target", "parent", "details")}
    obj["v"] = FORMAT_VERSION
    return _digest(canonical_json(obj).encode("utf-8"), key)


def _digest(data: bytes, key: bytes | None) -> str:
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _key_check(key: bytes) -> str:
    return hmac.new(key, b"dasan-audit-key-check", hashlib.sha256).hexdigest()[:16]


def _clean_str(s: str, limit: int = MAX_STRING) -> str:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable argv bytes)
        s = s.encode("utf-8", "replace").decode("utf-8")
    if len(s) > limit:
        s = s[:limit] + f"…[+{len(s) - limit}자]"
    return s


def _normalize(value: Any, depth: int = 0) -> Any:
    """Turn ``value`` into plain JSON data, deterministically (what gets stored is what is hashed)."""
    if depth > 32:
        raise AuditError("감사 기록 내용이 너무 깊게 중첩되어 있습니다 (32단계 이하로 줄이세요).")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _clean_str(value)
    if isinstance(value, Mapping):
        return {_clean_str(str(k), 256): _normalize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalize(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_normalize(v, depth + 1) for v in value), key=canonical_json)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return _clean_str(bytes(value).hex())
    return _clean_str(str(value))


def details_text(details: Mapping[str, Any]) -> str:
    text = canonical_json(_normalize(dict(details)))
    if len(text.encode("utf-8")) > MAX_DETAILS_BYTES:
        raise AuditError("감사 기록 내용이 1 MiB를 넘습니다. 본문 대신 식별자만 기록하세요.")
    return text


def now_ts() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_since(value: str) -> str:
    """``YYYY-MM-DD`` or an ISO date-time (naive = UTC) -> the stored ``ts`` form, for comparisons."""
    v = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            t = datetime.fromisoformat(v + "T00:00:00+00:00")
        else:
            t = datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith(("Z", "z")) else v)
            t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except ValueError as e:
        raise AuditError(
            f"날짜 형식이 잘못되었습니다: {value!r} (예: 2026-01-31, 2026-01-31T09:00:00+09:00; 시간대가 없으면 UTC)"
        ) from e
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def cli_actor() -> str:
    """Principal name for commands run locally: ``DASAN_ACTOR``, else ``local:<os user>``."""
    from dasan import settings

    env = settings.get("DASAN_ACTOR")
    if env:
        return env
    try:
        return f"local:{getpass.getuser()}"
    except Exception:  # no passwd entry (containers)
        return f"local:uid{os.getuid()}" if hasattr(os, "getuid") else "local:unknown"


# -- records ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    parent: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "actor": self.actor, "action": self.action,
                "target": self.target, "details": self.details, "parent": self.parent, "hash": self.hash}


@dataclass(frozen=True)
class Problem:
    seq: int  # 0 for problems of the whole log (anchor, key, unreadable file)
    kind: str  # edited | deleted | reordered | truncated | inserted | anchor | key | corrupt
    message_ko: str


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    problems: list[Problem] = field(default_factory=list)
    head: dict[str, Any] | None = None
    omitted: int = 0  # problems left out of ``problems`` beyond the cap


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    return AuditEntry(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7])


# -- head file -------------------------------------------------------------------------------
def _head_slot(seq: int, digest: str) -> bytes:
    payload = canonical_json({"hash": digest, "seq": seq, "v": 1})
    line = f"{payload} {hashlib.sha256(payload.encode()).hexdigest()[:16]}"
    return line.ljust(HEAD_SLOT - 1).encode("ascii") + b"\n"


def read_head(path: Path) -> Head | None:
    """The anchor in ``path``; ``None`` when the file is absent; :class:`AuditError` when unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AuditError(f"감사 기준 파일을 읽을 수 없습니다: {path} ({e.strerror})") from e
    best: Head | None = None
    for i in range(0, min(len(data), 2 * HEAD_SLOT), HEAD_SLOT):
        try:
            payload, check = data[i:i + HEAD_SLOT].decode("ascii").strip().rsplit(" ", 1)
            if hashlib.sha256(payload.encode()).hexdigest()[:16] != check:
                continue
            obj = json.loads(payload)
            head = Head(int(obj["seq"]), str(obj["hash"]))
        except (ValueError, KeyError, TypeError):
            continue
        if best is None or head.seq > best.seq:
            best = head
    if best is None:
        raise AuditError(f"감사 기준 파일이 손상되었습니다: {path} (`dasan audit verify`로 확인하세요)")
    return best


def _write_head(path: Path, seq: int, digest: str, *, both: bool = False) -> None:
    """Write slot ``seq % 2`` (or both slots, when the head must move backwards: ``reanchor``)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        slot = _head_slot(seq, digest)
        if both:
            os.pwrite(fd, slot + slot, 0)
        else:
            os.pwrite(fd, slot, (seq % 2) * HEAD_SLOT)
    finally:
        os.close(fd)


# -- the log ---------------------------------------------------------------------------------
class AuditLog:
    """Append-only hash-chained log; safe to share between threads and processes.

    ``key`` (bytes or str) makes hashes HMAC-SHA256; ``None`` reads ``DASAN_AUDIT_KEY``; ``""``
    means explicitly unkeyed. The key must match the one the log was created with.
    ``durable`` (default: true unless ``DASAN_AUDIT_SYNC=normal``) fsyncs every append.
    """

    def __init__(self, path_or_data_dir: str | os.PathLike[str], *, key: bytes | str | None = None,
                 durable: bool | None = None) -> None:
        p = Path(path_or_data_dir).expanduser()
        if p.suffix == ".db":
            self.db_path, self.head_path = p, p.with_suffix(".head")
        else:
            self.db_path, self.head_path = p / DB_NAME, p / HEAD_NAME
        from dasan import settings

        if key is None:
            key = settings.get(KEY_ENV) or None
        self.key: bytes | None = (key.encode("utf-8") if isinstance(key, str) else key) or None
        if durable is None:
            durable = str(settings.get(SYNC_ENV)).strip().lower() != "normal"
        self.durable = durable
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self.key_problem: str | None = None
        self.hash_alg: str | None = None

    # connection ---------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.db_path), timeout=30, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            raise AuditError(
                f"감사 로그를 열 수 없습니다: {self.db_path} ({e}). 데이터 디렉터리의 쓰기 권한을 확인하세요."
            ) from e
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
            retry_locked(lambda: self._ensure_schema(conn))
        except sqlite3.Error as e:
            conn.close()
            raise AuditError(
                f"감사 로그 파일이 손상되었거나 쓸 수 없습니다: {self.db_path} ({e}). "
                "`dasan audit verify`로 확인하고 백업에서 복구하세요."
            ) from e
        except AuditError:
            conn.close()
            raise
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        try:  # the common case: already created, nothing to write
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            conn.execute("SELECT 1 FROM entries LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            meta = {}
        if not meta:
            meta = self._create_schema(conn)
        self._check_meta(meta)

    def _create_schema(self, conn: sqlite3.Connection) -> dict[str, str]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta and conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone():
                raise AuditError(f"감사 로그의 메타 정보가 사라졌습니다: {self.db_path} (변조 또는 손상; 백업에서 복구하세요).")
            if not meta:
                meta = {"schema_version": str(SCHEMA_VERSION), "created_at": datetime.now(UTC).isoformat(),
                        "hash_alg": "hmac-sha256" if self.key else "sha256"}
                if self.key:
                    meta["key_check"] = _key_check(self.key)
                conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return meta

    def _check_meta(self, meta: dict[str, str]) -> None:
        try:
            version = int(meta.get("schema_version", "0") or 0)
        except ValueError:
            version = 0
        if version != SCHEMA_VERSION:
            raise AuditError(
                f"감사 로그 형식 버전 {version}은(는) 이 프로그램({SCHEMA_VERSION})과 맞지 않습니다: {self.db_path}"
            )
        self.key_problem = None
        self.hash_alg = meta.get("hash_alg")
        if meta.get("hash_alg") == "hmac-sha256":
            if not self.key:
                self.key_problem = f"키로 보호된 감사 로그입니다. 환경 변수 {KEY_ENV}에 만들 때의 키를 설정하세요."
            elif meta.get("key_check") != _key_check(self.key):
                self.key_problem = f"{KEY_ENV}의 키가 이 감사 로그를 만든 키와 다릅니다."
        elif meta.get("hash_alg") == "sha256":
            if self.key:
                self.key_problem = (f"키 없이 만든 감사 로그인데 {KEY_ENV}가 설정되어 있습니다 "
                                    "(키를 해제하거나 새 로그로 시작하세요).")
        else:
            self.key_problem = f"알 수 없는 해시 방식입니다: {meta.get('hash_alg')!r} (메타 정보가 바뀌었습니다)."

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._conn = self._open()
            self._pid = os.getpid()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _hash(self, seq: int, ts: str, actor: str, action: str, target: str, parent: str, details: str) -> str:
        data = canonical_bytes(seq=seq, ts=ts, actor=actor, action=action, target=target, parent=parent,
                               details_text=details)
        return _digest(data, self.key)

    def row_intact(self, row: tuple[Any, ...], seq: int | None = None, parent: str | None = None) -> bool:
        """Whether a raw ``entries`` row hashes to its stored hash (optionally at another seq/parent)."""
        try:
            obj = json.loads(row[5])
            if not isinstance(obj, dict) or canonical_json(obj) != row[5]:
                return False
            h = self._hash(row[0] if seq is None else seq, row[1], row[2], row[3], row[4],
                           row[6] if parent is None else parent, row[5])
        except (TypeError, ValueError, AttributeError):
            return False
        return hmac.compare_digest(h, str(row[7]))

    # append -------------------------------------------------------------------------------
    def append(self, action: str, actor: str, target: str = "", **details: Any) -> AuditEntry:
        """Record one event; raises :class:`AuditError` (the caller must then stop) on any failure."""
        if not isinstance(action, str) or not _ACTION_RE.fullmatch(action):
            raise AuditError(f"감사 기록의 동작 이름이 잘못되었습니다: {action!r} (예: search, document.upload)")
        if not isinstance(actor, str) or not actor.strip():
            raise AuditError("감사 기록에 행위자(사용자 이름)가 없습니다. 로그인한 사용자를 넘기세요.")
        return self._append(action, _clean_str(actor, 256), _clean_str(str(target), 1024), details_text(details))

    def append_once(self, action: str, actor: str, target: str, details: Mapping[str, Any], *,
                    key: Mapping[str, Any], after_seq: int = 0, since_ts: str | None = None) -> AuditEntry:
        """:meth:`append` of ``details``, unless the log already holds the entry: one with this
        ``action`` and ``target``, after ``after_seq`` (and at or after ``since_ts``), whose details
        carry every item of ``key`` (written with the details). The look-up and the append run
        in one write transaction (serialised across processes), so an operation retried after
        a crash — a job taken up again — cannot write its outcome twice. Returns the entry
        written, or the one found."""
        if not isinstance(action, str) or not _ACTION_RE.fullmatch(action):
            raise AuditError(f"감사 기록의 동작 이름이 잘못되었습니다: {action!r} (예: search, document.upload)")
        if not isinstance(actor, str) or not actor.strip():
            raise AuditError("감사 기록에 행위자(사용자 이름)가 없습니다. 로그인한 사용자를 넘기세요.")
        merged = {**details, **key}
        match = json.loads(details_text(dict(key)))  # as stored (normalised)
        return self._append(action, _clean_str(actor, 256), _clean_str(str(target), 1024), details_text(merged),
                            once=(int(after_seq), since_ts, match))

    def _append(self, action: str, actor: str, target: str, details: str, *, reanchor: bool = False,
                once: tuple[int, str | None, dict[str, Any]] | None = None) -> AuditEntry:
        with self._lock:
            conn = self._connection()
            if self.key_problem:
                raise AuditError(self.key_problem)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    last = conn.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                    if not reanchor:
                        self._check_tail(conn, last)
                    found = self._find_once(conn, action, target, once) if once is not None else None
                    if found is not None:
                        conn.execute("ROLLBACK")  # nothing written: the entry is already there
                        return _entry(found)
                    seq = last[0] + 1 if last else 1
                    parent = last[7] if last else GENESIS
                    ts = max(now_ts(), last[1]) if last else now_ts()
                    digest = self._hash(seq, ts, actor, action, target, parent, details)
                    conn.execute(f"INSERT INTO entries({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (seq, ts, actor, action, target, details, parent, digest))
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                raise AuditError(
                    f"감사 로그에 기록하지 못해 작업을 중단합니다: {self.db_path} ({e}). "
                    "디스크 공간과 쓰기 권한을 확인하세요."
                ) from e
            try:
                _write_head(self.head_path, seq, digest, both=reanchor)
            except OSError as e:
                raise AuditError(
                    f"감사 기준 파일을 쓰지 못해 작업을 중단합니다: {self.head_path} ({e.strerror}). "
                    "쓰기 권한을 확인하세요."
                ) from e
            return AuditEntry(seq, ts, actor, action, target, json.loads(details), parent, digest)

    @staticmethod
    def _find_once(conn: Any, action: str, target: str,
                   once: tuple[int, str | None, dict[str, Any]]) -> tuple[Any, ...] | None:
        after, since, match = once
        sql = f"SELECT {_COLUMNS} FROM entries WHERE seq > ? AND action = ? AND target = ?"
        args: list[Any] = [after, action, target]
        if since is not None:
            sql += " AND ts >= ?"
            args.append(since)
        for row in conn.execute(sql + " ORDER BY seq", args).fetchall():
            try:
                d = json.loads(row[5])
            except ValueError:
                continue
            if isinstance(d, dict) and all(d.get(k) == v for k, v in match.items()):
                return tuple(row)
        return None

    def _settled_head(self, last: tuple[Any, ...] | None, wait: float = 2.0) -> Head | None:
        """The head file, allowing for another writer that has committed the log's first
        entry and is writing the head file right now (it writes after its commit): while
        entries exist but the file is absent or half-written, look again for up to ``wait`` s."""
        deadline = time.monotonic() + wait
        while True:
            try:
                head = read_head(self.head_path)
                if head is not None or last is None or time.monotonic() > deadline:
                    return head
            except AuditError:
                if last is None or time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    def _check_tail(self, conn: sqlite3.Connection, last: tuple[Any, ...] | None) -> None:
        """Refuse to extend a log whose tail was cut or edited (that would hide the evidence)."""
        head = self._settled_head(last)
        hint = "`dasan audit verify`로 확인한 뒤 관리자가 `dasan audit reanchor`로 기록을 남기고 다시 시작하세요."
        if last is not None and not self.row_intact(last):
            raise AuditError(f"감사 로그의 마지막 항목({last[0]}번)이 변조되었습니다. {hint}")
        if head is None:
            if last is not None:
                raise AuditError(f"감사 기준 파일이 없습니다: {self.head_path}. {hint}")
            return
        if last is None or head.seq > last[0]:
            raise AuditError(f"감사 로그의 끝부분이 삭제되었습니다 (기준 파일은 {head.seq}번까지 있음). {hint}")
        row = conn.execute("SELECT hash FROM entries WHERE seq = ?", (head.seq,)).fetchone()
        if row is None or row[0] != head.hash:
            raise AuditError(f"감사 로그의 {head.seq}번 항목이 기준 파일과 다릅니다. {hint}")

    def reanchor(self, actor: str, reason: str) -> AuditEntry:
        """Administrator override: log the current head/tail mismatch and anchor the log anew."""
        if not reason.strip():
            raise AuditError("재기준 사유를 적어야 합니다 (--reason).")
        try:
            old: Head | str | None = read_head(self.head_path)
        except AuditError as e:
            old = str(e)
        details = {"reason": reason, "old_head": old.__dict__ if isinstance(old, Head) else old}
        return self._append("audit.reanchor", _clean_str(actor, 256), "", details_text(details), reanchor=True)

    # reading ------------------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection | None:
        """A separate connection for reads (``None`` when the log was never created)."""
        if not self.db_path.exists():
            return None
        return self._open()

    def tail(self, n: int = 20) -> list[AuditEntry]:
        conn = self._reader()
        if conn is None:
            return []
        try:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY seq DESC LIMIT ?", (max(0, n),)).fetchall()
            return [_entry(r) for r in reversed(rows)]
        except (sqlite3.Error, ValueError) as e:
            raise AuditError(f"감사 로그를 읽을 수 없습니다: {self.db_path} ({e})") from e
        finally:
            conn.close()

    def export(self, since: str | None = None) -> Iterator[dict[str, Any]]:
        """Entries with ``ts >= since`` (date or date-time; naive means UTC), oldest first."""
        bound = parse_since(since) if since else ""
        conn = self._reader()
        if conn is None:
            return
        try:
            last = 0
            while True:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM entries WHERE seq > ? AND ts >= ? ORDER BY seq LIMIT 500",
                    (last, bound)).fetchall()
                if not rows:
                    return
                for r in rows:
                    yield _entry(r).to_dict()
                last = rows[-1][0]
        except (sqlite3.Error, ValueError) as e:
            raise AuditError(f"감사 로그를 읽을 수 없습니다: {self.db_path} ({e})") from e
        finally:
            conn.close()

    def verify(self) -> VerifyReport:
        """Check every entry, the chain links and the anchor; names each problem by seq."""
        from dasan.security.audit_verify import verify_log

        return verify_log(self)


@contextlib.contextmanager
def audited(log: AuditLog, action: str, actor: str, target: str = "", **details: Any) -> Iterator[dict[str, Any]]:
    """Log intent, run the block, log the outcome. Show results only after the block exits.

    The first entry (``phase="start"``) is written before the operation; if that fails the block
    never runs. The block may add facts to the yielded dict (e.g. ``chunk_ids``, ``backend``);
    they go into the closing entry (``phase="end"``, ``outcome`` ``"ok"`` or ``"error"``, and
    ``start_seq``). If that closing entry cannot be written, :class:`AuditError` is raised from
    the ``with`` statement, so a caller that shows results after the block never shows unlogged
    output.
    """
    start = log.append(action, actor, target, phase="start", **details)
    outcome: dict[str, Any] = {}
    try:
        yield outcome
    except BaseException as e:
        log.append(action, actor, target, **{**outcome, "phase": "end", "start_seq": start.seq,
                                             "outcome": "error", "error": f"{type(e).__name__}: {e}"[:500]})
        raise
    log.append(action, actor, target, **{**outcome, "phase": "end", "start_seq": start.seq, "outcome": "ok"})
