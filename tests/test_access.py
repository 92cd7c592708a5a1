"""Classification and department access, end to end: search, answers, document download, counts.

The oracle is computed independently from the raw database (levels, owners, memberships), not
through :mod:`dasan.security.guard`, so a bug in the guard cannot hide itself.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dasan.errors import NotFoundError, PermissionDeniedError
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.answer import Answerer
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.security import guard
from dasan.security.principals import Directory
from dasan.store import open_store
from dasan.types import LEVELS, Principal

TOPICS = ["철도 선로 작업 안전", "개인정보 보호 조치", "재난 대피 명령", "청년 정책 지원금", "예산 집행 계획",
          "감사 결과 보고", "인사 발령 기준", "화재 예방 점검"]
DEPARTMENTS = ["안전처", "감사실", "인사과", "기획과"]
# collection → (level, owning departments); "공용" has no owner and is visible to all (within clearance)
COLLECTIONS = {"공용": ("공개", ()), "안전": ("공개", ("안전처",)), "감사": ("민감", ("감사실",)),
               "인사": ("공개", ("인사과", "기획과")), "기밀함": ("기밀", ("기획과",))}


@dataclass(frozen=True)
class World:
    data: Path
    url: str  # "" for the embedded SQLite store, else the PostgreSQL database

    def open(self):
        return open_store(self.data, url=self.url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("access")
    data = root / "data"
    data.mkdir()
    url = ""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_server").fresh_database("access")
    store = open_store(data, url=url)
    d = Directory.from_store(store)
    for dep in DEPARTMENTS:
        d.add_department(dep)
    n = 0
    for coll, (clevel, owners) in COLLECTIONS.items():
        for lvl in LEVELS:
            folder = root / "src" / coll / lvl
            folder.mkdir(parents=True)
            for i, topic in enumerate(TOPICS[:4] if n % 2 else TOPICS[4:]):
                (folder / f"doc{i}.txt").write_text(
                    f"{coll} {lvl} 문서 {i}: {topic}에 관한 내부 지침.\n{topic} 시 담당자는 절차를 따른다. 고유번호 {n}-{i}.",
                    encoding="utf-8")
            n += 1
            ingest_paths(store, [folder], collection=coll, classification=lvl)
        store.set_collection_level(coll, clevel)
        for dep in owners:
            d.assign_collection(coll, dep)
    store.close()
    return World(data, url)


def _raw(world: World):
    """A DB-API connection to the world's tables (PostgreSQL: as the application itself)."""
    if not world.url:
        return sqlite3.connect(world.data / "dasan.db")
    import psycopg

    con = psycopg.connect(world.url)
    con.execute("SELECT set_config('dasan.system', 'on', false)")
    return con


def visible_ids(world: World, p: Principal) -> set[str]:
    """Chunk ids ``p`` may see, straight from the tables (independent of the guard)."""
    con = _raw(world)
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    owners: dict[str, set[str]] = {}
    for coll, dep in con.execute(
            "SELECT cd.collection, d.name FROM collection_departments cd JOIN departments d ON d.id = cd.department_id"):
        owners.setdefault(coll, set()).add(dep)
    out = set()
    rows = con.execute("""SELECT c.id, c.classification, d.collection, k.level FROM chunks c
                          JOIN documents d ON d.id = c.document_id JOIN collections k ON k.name = d.collection""")
    for cid, clevel, coll, klevel in rows:
        level = max(rank.get(clevel, 9), rank.get(klevel, 9))
        if level > rank[p.clearance]:
            continue
        if "admin" not in p.roles and coll in owners and not owners[coll] & set(p.departments):
            continue
        out.add(cid)
    con.close()
    return out


principals = st.builds(
    Principal,
    name=st.sampled_from(["kim", "lee", "park"]),
    clearance=st.sampled_from(LEVELS),
    roles=st.sampled_from([("user",), ("auditor",), ("manager",), ("admin",)]),
    departments=st.lists(st.sampled_from([*DEPARTMENTS, "없는부서", "'; DROP TABLE chunks;--"]), max_size=3,
                         unique=True).map(tuple),
)
queries = st.one_of(st.sampled_from(TOPICS), st.sampled_from(["고유번호", "문서 지침", "기밀", "감사 민감"]),
                    st.text(min_size=1, max_size=30))
collections_ = st.one_of(st.none(), st.sampled_from([*COLLECTIONS, "' OR 1=1 --", "../../etc"]))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          derandomize=True)
@given(p=principals, q=queries, coll=collections_)
def test_nothing_beyond_clearance_or_department_is_disclosed(world: World, p: Principal, q: str,
                                                              coll: str | None) -> None:
    store = world.open()
    try:
        allowed = visible_ids(world, p)
        r = Retriever(store, world.data, RetrievalConfig(embedder=None))
        flt = guard.search_filter(store, p, SearchFilter(collection=coll))
        if world.url:  # the database's own row-level security agrees, with no filter in the query
            from dasan.store.postgres import AccessScope

            with store.scoped(AccessScope.from_filter(flt)):
                assert {c.id for c in store.iter_chunks()} == allowed
        hits = r.search(q, k=20, flt=flt)
        assert {h.chunk.id for h in hits} <= allowed
        ans = Answerer(r).ask(q, flt=flt)
        assert {c.chunk.id for c in ans.citations} <= allowed
        assert {h.chunk.id for h in ans.hits} <= allowed
        # document download: every document is either fully visible or "not found"
        for doc in store.list_documents():
            ids = {c.id for c in store.chunks_of(doc.id)}
            try:
                got = guard.get_document(store, p, doc.id)
                assert got.id == doc.id and ids <= allowed
            except NotFoundError:
                assert not ids & allowed
        listed = guard.visible_documents(store, p)
        assert all({c.id for c in store.chunks_of(d.id)} <= allowed for d in listed)
        counts = guard.visible_collections(store, p)
        assert sum(c["chunks"] for c in counts) == len(allowed)
    finally:
        store.close()


def test_level_change_takes_effect_at_once(world: World) -> None:
    store = world.open()
    r = Retriever(store, world.data, RetrievalConfig(embedder=None))
    user = Principal(name="u", clearance="공개", departments=())
    doc = next(d for d in store.list_documents("공용") if d.classification == "공개")
    q = store.chunks_of(doc.id)[0].text
    flt = guard.search_filter(store, user)
    assert doc.id in {h.chunk.document_id for h in r.search(q, k=50, flt=flt)}
    store.set_document_level(doc.id, "기밀")
    try:
        assert doc.id not in {h.chunk.document_id for h in r.search(q, k=50, flt=flt)}
        with pytest.raises(NotFoundError):
            guard.get_document(store, user, doc.id)
    finally:
        store.set_document_level(doc.id, "공개")
    assert doc.id in {h.chunk.document_id for h in r.search(q, k=50, flt=flt)}
    store.close()


def test_embargoed_press_release_is_hidden_from_public_clearance(tmp_path: Path) -> None:
    from dasan.rag.retrieve import embargo_ts

    store = open_store(tmp_path)
    r = Retriever(store, tmp_path, RetrievalConfig(embedder=None))
    assert embargo_ts({"embargo": "2999-01-01T06:00:00+09:00"}) > time.time()
    assert embargo_ts({"embargo": "garbage"}) == float("inf")  # unreadable: fails closed
    assert embargo_ts({"embargo_hold": True}) == float("inf")
    assert embargo_ts({}) == 0.0
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("보도 예정 자료: 새 청년 지원금 정책 발표", encoding="utf-8")
    ingest_paths(store, [src], collection="press")
    r.refresh()
    assert r.size == 1
    row = 0
    r._embargo[row] = time.time() + 3600  # as if its 보도시점 were an hour from now
    public = guard.search_filter(store, Principal(name="u", clearance="공개"))
    sensitive = guard.search_filter(store, Principal(name="v", clearance="민감"))
    assert r.rank("청년 지원금", 5, public) == []
    assert r.rank("청년 지원금", 5, sensitive)
    r._embargo[row] = time.time() - 1  # embargo passed
    assert r.rank("청년 지원금", 5, public)
    store.close()


def test_ingest_respects_clearance_and_admin_only_ownership(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    user = Principal(name="u", clearance="민감", roles=("manager",))
    with pytest.raises(PermissionDeniedError):
        guard.check_ingest(store, user, "c", "기밀")
    with pytest.raises(PermissionDeniedError):
        guard.check_ingest(store, user, "c", "공개", ("안전처",))
    assert guard.check_ingest(store, user, "c", "S") == "민감"
    with pytest.raises(PermissionDeniedError):
        guard.check_ingest(store, Principal(name="r", roles=("user",)), "c", "공개")
    with pytest.raises(PermissionDeniedError):
        guard.check_relabel(store, user, "공개")
    store.close()


def test_injection_and_traversal_through_cli_filters_and_names(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dasan.cli import cli

    data, src = tmp_path / "data", tmp_path / "in" / "docs"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("선로 작업 안전 수칙", encoding="utf-8")
    run = CliRunner().invoke
    res = run(cli, ["--data-dir", str(data), "ingest", str(src), "-c", "../../escape'; DROP TABLE chunks;--", "--json"])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "escape").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data", "in"]
    for coll in ["' OR 1=1 --", "%", "_", "../../etc/passwd"]:
        res = run(cli, ["--data-dir", str(data), "search", "선로", "-c", coll, "--json"])
        assert res.exit_code == 0 and res.output.strip() == "[]"
    res = run(cli, ["--data-dir", str(data), "search", "선로", "--json"])
    assert "선로" in res.output  # the table survived
    for ident in ["%", "_", "' OR '1'='1", "../../etc/passwd"]:
        res = run(cli, ["--data-dir", str(data), "docs", "show", ident])
        assert res.exit_code != 0 and "찾을 수 없습니다" in res.output


def test_disclosure_status_sets_a_floor_on_the_level(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from dasan.cli import cli
    from dasan.errors import ConfigError
    from dasan.security.disclosure import level_for, parse_disclosure

    assert parse_disclosure("비공개:2").implied_level() == "기밀"
    assert parse_disclosure("부분공개:6").implied_level() == "민감"
    assert level_for("공개", parse_disclosure("공개")) == "공개"
    assert level_for("기밀", parse_disclosure("비공개:5")) == "기밀"
    for bad in ("비공개", "비공개:9", "공개:3", "대외비"):
        with pytest.raises(ConfigError):
            parse_disclosure(bad)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("내부 검토 중인 예산 조정안", encoding="utf-8")
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "ingest", str(src), "--disclosure", "비공개:5"])
    assert res.exit_code == 0, res.output
    store = open_store(tmp_path / "d")
    [doc] = store.list_documents()
    assert doc.classification == "민감"
    assert doc.metadata["정보공개"] == {"status": "비공개", "reason": 5,
                                     "basis": "공공기관의 정보공개에 관한 법률 제9조제1항제5호"}
    store.close()
