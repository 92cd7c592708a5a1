"""PostgreSQL-only parts of the store (the shared contract runs in tests/test_store.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from dasan.errors import AlreadyExistsError, ConfigError, StoreError
from dasan.store import open_store
from dasan.store.postgres import PostgresStore


def test_migrations_numbered_idempotent_and_safe_to_race(pg_url: str, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    versions: list[int] = []

    def work() -> None:
        try:
            s = open_store(tmp_path, url=pg_url)
            versions.append(s.schema_version())
            s.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(versions)) == 1 and versions[0] >= 1
    with psycopg.connect(pg_url) as c:
        got = [r[0] for r in c.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert got == list(range(1, versions[0] + 1))
        # the servers connect as an ordinary role that owns the database, never a superuser
        assert c.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False


def test_setting_selects_postgresql_and_unset_stays_sqlite(pg_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    s = open_store(tmp_path / "a")
    assert isinstance(s, PostgresStore)
    s.close()
    assert not (tmp_path / "a" / "dasan.db").exists()
    monkeypatch.delenv("DASAN_DATABASE_URL")
    s = open_store(tmp_path / "b")
    assert type(s).__name__ == "SqliteStore" and (tmp_path / "b" / "dasan.db").exists()
    s.close()
    monkeypatch.setenv("DASAN_DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ConfigError, match="postgresql://"):
        open_store(tmp_path / "c")


def test_missing_vector_extension_and_unreachable_server_name_the_fix(pg_server, tmp_path: Path) -> None:
    with psycopg.connect(pg_server.url("postgres", "postgres"), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS novector")
        c.execute("CREATE DATABASE novector OWNER dasan")
    with pytest.raises(StoreError, match="CREATE EXTENSION vector"):
        open_store(tmp_path, url=pg_server.url("dasan", "novector"))
    bad = pg_server.url("dasan", "dasan").replace("port=5432", "port=1")
    with pytest.raises(StoreError, match="DASAN_DATABASE_URL"):
        PostgresStore(bad, tmp_path, pool_timeout=2)


def test_directory_names_are_case_insensitive_and_keys_work(pg_url: str, tmp_path: Path) -> None:
    from dasan.security.access import authenticate_key

    s = open_store(tmp_path, url=pg_url)
    try:
        d = s.directory()
        d.add_department("안전처")
        d.add_department("Ops", parent="안전처")
        d.add_user("Kim", clearance="민감", role="manager", departments=("안전처", "ops"))
        with pytest.raises(AlreadyExistsError):
            d.add_user("kim")
        assert d.get_user("KIM").departments == ("Ops", "안전처")
        d.join_department("kim", "Ops")  # already a member: ignored
        d.assign_collection("안전", "ops")
        d.assign_collection("안전", "Ops")
        assert d.collection_owners() == {"안전": ("Ops",)}
        assert d.subtree("안전처") == ["안전처", "Ops"]
        new = d.create_key("kim", ["search", "ask"])
        p = authenticate_key(d, new.key)
        assert p.name == "Kim" and p.scopes == ("search", "ask")
        assert d.find_key(new.record.prefix).id == new.record.id
        d.revoke_key(new.record.id)
        assert d.find_key(new.record.id).status() == "revoked"
        d.remove_user("kim")
        assert d.find_user("kim") is None and d.list_keys() == []
    finally:
        s.close()


def test_readyz_style_ping_reports_the_database(pg_url: str, tmp_path: Path) -> None:
    s = open_store(tmp_path, url=pg_url)
    try:
        info = s.ping()
        assert info["backend"] == "postgresql" and info["server_version"].startswith("18")
        assert info["schema_version"] == s.schema_version() and info["pool"]["max"] >= 1
    finally:
        s.close()
