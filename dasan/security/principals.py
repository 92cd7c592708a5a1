"""The principal directory: users, nested departments, memberships, API keys, collection owners.

A :class:`Directory` works on the main SQLite store's connection (tables from migration
``0003_principals.sql``). It stores and validates; *policy* (who may see or do what) lives in
:mod:`dasan.security.access`.

API keys look like ``dsn_1a2b3c4d_<43 url-safe characters>``: a public prefix (``dsn_`` and
8 hex digits, shown in listings and used to find the row) and a 256-bit random secret. Only the
SHA-256 of the whole key is stored. A slow KDF (scrypt, PBKDF2) exists to protect *low-entropy*
secrets such as passwords from guessing; a uniformly random 256-bit secret cannot be guessed,
so a fast hash gives the same protection against a stolen database while keeping the per-request
check cheap (a deliberately slow check on every API call would be a denial-of-service lever).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dasan.errors import (
    DirectoryError,
    InvalidNameError,
    StoreError,
)
from dasan.types import LEVELS

ROLES: tuple[str, ...] = ("admin", "manager", "user", "auditor")
#: What an API key may be used for (see ``dasan.security.access.ACTION_SCOPE``).
SCOPES: tuple[str, ...] = ("search", "ask", "docs", "audit", "admin")
#: N2SF letters accepted as aliases of the Korean level names.
LEVEL_ALIASES = {"o": "공개", "s": "민감", "c": "기밀"}
RESERVED_USER_NAMES = frozenset({"operator"})

MAX_NAME_CHARS = 64
MAX_COLLECTION_CHARS = 128
MAX_DEPTH = 16
DEFAULT_KEY_DAYS = 90
MAX_KEY_DAYS = 3650

KEY_PREFIX = "dsn_"
_KEY_RE = re.compile(r"dsn_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
_PREFIX_RE = re.compile(r"dsn_[0-9a-f]{8}")
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

log = logging.getLogger(__name__)


# -- records -----------------------------------------------------------------------------
@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    clearance: str
    role: str
    departments: tuple[str, ...]
    created_at: str
    updated_at: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "clearance": self.clearance, "role": self.role,
                "departments": list(self.departments), "created_at": self.created_at,
                "updated_at": self.updated_at}


@dataclass(frozen=True)
class DepartmentRecord:
    id: int
    name: str
    parent: str | None
    created_at: str


@dataclass(frozen=True)
class KeyRecord:
    id: int
    user: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None

    def status(self, now: datetime | None = None) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at and _parse_time(self.expires_at) <= (now or _utcnow()):
            return "expired"
        return "active"

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {"id": self.id, "user": self.user, "prefix": self.prefix, "scopes": list(self.scopes),
                "status": self.status(now), "created_at": self.created_at, "expires_at": self.expires_at,
                "revoked_at": self.revoked_at, "last_used_at": self.last_used_at}


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``key`` is the secret, shown once and never stored."""

    key: str
    record: KeyRecord


# -- validation --------------------------------------------------------------------------
def validate_name(value: object, what: str = "이름", max_chars: int = MAX_NAME_CHARS) -> str:
    """NFC-normalised, trimmed name; refuses control/format characters and over-long names."""
    if not isinstance(value, str):
        raise InvalidNameError(f"{what}은(는) 문자열이어야 합니다.")
    name = unicodedata.normalize("NFC", value).strip(" ")
    if not name:
        raise InvalidNameError(f"{what}이(가) 비어 있습니다. 한 글자 이상 입력하세요.")
    if len(name) > max_chars:
        raise InvalidNameError(f"{what}이(가) 너무 깁니다 ({len(name)}자). {max_chars}자 이하로 줄이세요.")
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES or (cat == "Zs" and ch != " "):
            raise InvalidNameError(
                f"{what}에 쓸 수 없는 문자(U+{ord(ch):04X})가 있습니다. 제어·서식 문자와 특수 공백을 빼고 다시 입력하세요."
            )
    return name


def parse_level(value: object) -> str:
    """A classification level: ``공개``/``민감``/``기밀`` (or the N2SF letters O/S/C)."""
    text = unicodedata.normalize("NFC", str(value)).strip()
    level = LEVEL_ALIASES.get(text.lower(), text)
    if level not in LEVELS:
        raise DirectoryError(f"알 수 없는 등급입니다: {text[:20]!r}. {'/'.join(LEVELS)} 중 하나를 쓰세요.")
    return level


def parse_role(value: object) -> str:
    role = str(value).strip().lower()
    if role not in ROLES:
        raise DirectoryError(f"알 수 없는 역할입니다: {str(value)[:20]!r}. {'/'.join(ROLES)} 중 하나를 쓰세요.")
    return role


def parse_scopes(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        s = str(v).strip().lower()
        if s not in SCOPES:
            raise DirectoryError(f"알 수 없는 키 범위입니다: {str(v)[:20]!r}. {'/'.join(SCOPES)} 중에서 고르세요.")
        if s not in out:
            out.append(s)
    return tuple(sorted(out, key=SCOPES.index))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _parse_time(s: str) -> datetime:
    t = datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


_DUMMY_HASH = hash_key("dsn_00000000_" + "0" * 43)


class Directory:
    """Users, departments, memberships, API keys and collection owners: the directory contract.

    A store keeps them and hands out its directory (``Store.directory``): the embedded store's is
    :class:`dasan.store.directory.SqliteDirectory`, PostgreSQL's
    :class:`dasan.store.postgres.directory.PgDirectory` (the same methods over the same tables).
    Callers get one with :meth:`from_store` and never touch a connection."""

    @classmethod
    def from_store(cls, store: object) -> Directory:
        """The directory of a store, through the store's contract (``Store.directory``)."""
        make = getattr(store, "directory", None)
        if make is None:
            raise StoreError("이 저장소 종류는 사용자 디렉터리를 지원하지 않습니다. SQLite 저장소를 쓰세요.")
        return make()


def _norm(name: str) -> str:
    return unicodedata.normalize("NFC", str(name)).strip(" ")[: 4 * MAX_NAME_CHARS]
