"""`dasan migrate --to postgresql://…`: an embedded installation copied and verified."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dasan.cli import cli
from dasan.security.access import authenticate_key
from dasan.store import open_store


def test_migrate_copies_and_verifies_an_installation(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DASAN_DATABASE_URL", raising=False)
    data, src = tmp_path / "data", tmp_path / "in"
    src.mkdir()
    for i, text in enumerate(["철도 선로 작업 안전 수칙", "개인정보 보호 조치 기준", "재난 대피 명령 절차"]):
        (src / f"d{i}.txt").write_text(f"{text}. 담당자는 절차를 따른다. 번호 {i}.", encoding="utf-8")
    run = CliRunner().invoke
    base = ["--data-dir", str(data)]
    assert run(cli, [*base, "ingest", str(src), "-c", "안전"]).exit_code == 0
    assert run(cli, [*base, "departments", "add", "안전처"]).exit_code == 0
    res = run(cli, [*base, "users", "add", "kim", "--clearance", "민감", "--department", "안전처"])
    assert res.exit_code == 0, res.output
    res = run(cli, [*base, "keys", "create", "--user", "kim", "--json"])
    assert res.exit_code == 0, res.output
    key = json.loads(res.output)["key"]

    res = run(cli, [*base, "migrate", "--to", pg_url, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{"):])
    assert report["ok"] and report["counts"]["chunks"][0] == report["counts"]["chunks"][1] > 0
    assert report["counts"]["api_keys"] == [1, 1] and report["audit"] == "ok"
    assert report["counts"]["audit_entries"][0] == report["counts"]["audit_entries"][1] > 0
    assert report["search_sample"][0] == report["search_sample"][1] > 0

    store = open_store(data, url=pg_url)
    try:
        p = authenticate_key(store.directory(), key)  # the same key works against PostgreSQL
        assert p.name == "kim" and p.departments == ("안전처",)
        store.directory().add_user("lee")  # identity sequences continue after the copied ids
    finally:
        store.close()
    # from now on the commands honour the URL: the copied chain verifies and goes on in PostgreSQL
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    res = run(cli, [*base, "users", "add", "park", "--clearance", "공개"])
    assert res.exit_code == 0, res.output
    res = run(cli, [*base, "audit", "verify", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["checked"] > report["counts"]["audit_entries"][1]
    monkeypatch.delenv("DASAN_DATABASE_URL")
    # a second run refuses instead of mixing two copies
    res = run(cli, [*base, "migrate", "--to", pg_url])
    assert res.exit_code != 0 and "빈 데이터베이스" in str(res.exception)


def test_migrate_copies_the_application_data(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    """Crowd series, runs, alerts and the youth-policy catalogue move over as they are."""
    from dasan import config
    from dasan.apps.crowd import service
    from dasan.apps.crowd.series_store import CrowdStore
    from dasan.store import open_store
    from dasan.store.base import StoredPolicy

    monkeypatch.delenv("DASAN_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    s = open_store(data)
    service.ingest(s, [str(config.examples_dir() / "crowd" / "citydata_sample.json")])
    cs = CrowdStore.from_store(s)
    run_id = cs.save_run("forecast", {"places": {}})
    cs.put_alert({"id": "a1", "place": "서울광장", "kind": "threshold", "level": "주의", "target": "2025-05-05"})
    s.policy_catalogue().upsert_policies(
        [StoredPolicy("P1", "정책", "", "민감", '{"plcyNo": "P1"}', "{}", "h", apply_end="2020-01-01")],
        lambda new, old: "added", expire_before="2025-01-01")
    s.close()
    res = CliRunner().invoke(cli, ["--data-dir", str(data), "migrate", "--to", pg_url, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output[res.output.index("{"):])
    assert report["ok"] and report["counts"]["crowd_points"][0] == report["counts"]["crowd_points"][1] > 0
    pg = open_store(data, url=pg_url)
    try:
        cs = CrowdStore.from_store(pg)
        assert cs.runs("forecast")[0]["run_id"] == run_id and cs.save_run("forecast", {}) == run_id + 1
        assert [a["id"] for a in cs.alerts()] == ["a1"]
        [p] = pg.policy_catalogue().list_policies()
        assert p.classification == "민감" and p.expired
    finally:
        pg.close()


def test_dense_vectors_are_copied_into_an_empty_table_and_indexed_once(pg_url: str, tmp_path: Path) -> None:
    import sqlite3

    import numpy as np

    from dasan.store.base import DocumentRecord
    from dasan.store.ids import PIPELINE_VERSION
    from dasan.store.postgres.migrate import import_dense_vectors
    from dasan.types import Chunk, Citation

    store = open_store(tmp_path / "pg", url=pg_url)
    try:
        rec = DocumentRecord(id="d", collection="c", source_path="/d", content_hash="d", pipeline_version=PIPELINE_VERSION,
                             format="md", kind="generic", title="d", pages=None, size_bytes=1, n_chunks=0)
        store.put_documents([(rec, [Chunk(id=f"d-{i}", document_id="d", ordinal=i, text=f"본문 {i}",
                                          citation=Citation(label=f"d {i}")) for i in range(50)])])
        index = tmp_path / "index"
        index.mkdir()
        vecs = np.random.default_rng(0).normal(size=(52, 8)).astype(np.float32)
        db = sqlite3.connect(index / "dense-fake-8.db")
        db.execute("CREATE TABLE vectors (chunk_id TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        with db:  # two vectors of chunks the target does not hold are left out
            db.executemany("INSERT INTO vectors VALUES (?, ?)",
                           [(f"d-{i}" if i < 50 else f"gone-{i}", v.tobytes()) for i, v in enumerate(vecs)])
        db.close()
        assert import_dense_vectors(store, index) == {"fake-8": 50}
        with store.db.tx() as c:
            got = {r[0]: np.asarray(r[1], dtype=np.float32)
                   for r in c.execute("SELECT chunk_id, embedding::real[] FROM dense_fake_8")}
            ddl = c.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'dense_fake_8_hnsw'").fetchone()
        assert len(got) == 50 and all(np.array_equal(got[f"d-{i}"], vecs[i]) for i in range(50))
        assert ddl and "hnsw" in ddl[0]
    finally:
        store.close()
