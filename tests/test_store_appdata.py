"""Contract tests of the application data in the store (every backend must pass these): the
youth-policy catalogue (:class:`dasan.store.base.PolicyCatalogue`) and the crowd series
(:class:`dasan.store.base.SeriesStore`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dasan.store import open_store
from dasan.store.base import StoredPolicy


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    s = open_store(tmp_path / request.param, url=url)
    yield s
    s.close()


def _pol(no: str, h: str = "h1", level: str = "공개", end: str | None = "2025-12-31") -> StoredPolicy:
    return StoredPolicy(plcy_no=no, name=f"정책 {no}", categories="일자리,주거", classification=level,
                        record=f'{{"plcyNo": "{no}", "h": "{h}"}}', conditions="{}", content_hash=h,
                        source="a.json", apply_end=end)


def _decide(new: StoredPolicy, old: StoredPolicy | None) -> str:
    if old is None:
        return "added"
    if new.content_hash == "older":
        return "older"
    return "unchanged" if old.content_hash == new.content_hash else "updated"


def test_policy_catalogue_upserts_by_plcy_no_and_marks_expiry(store) -> None:
    cat = store.policy_catalogue()
    assert cat.list_policies() == [] and cat.catalogue_version()[0] == 0
    counts = cat.upsert_policies([_pol("P1"), _pol("P2", end=None), _pol("P3", level="민감", end="2024-01-01")],
                                 _decide, expire_before="2025-06-01")
    assert counts == {"added": 3, "updated": 0, "unchanged": 0, "older": 0, "expired": 1, "total": 3}
    v1 = cat.catalogue_version()
    assert v1[0] == 3 and v1[2] == 1
    seen: list[tuple[str, str | None]] = []

    def decide(new: StoredPolicy, old: StoredPolicy | None) -> str:
        seen.append((new.plcy_no, old.content_hash if old else None))
        return _decide(new, old)

    counts = cat.upsert_policies([_pol("P1"), _pol("P2", h="h2", end=None), _pol("P3", h="older")], decide,
                                 expire_before="2026-01-01")
    assert sorted(seen) == [("P1", "h1"), ("P2", "h1"), ("P3", "h1")]  # the caller decides, seeing what is stored
    assert counts == {"added": 0, "updated": 1, "unchanged": 1, "older": 1, "expired": 2, "total": 3}
    rows = {p.plcy_no: p for p in cat.list_policies()}
    assert rows["P2"].content_hash == "h2" and rows["P3"].content_hash == "h1"  # older: kept
    assert rows["P1"].expired and not rows["P2"].expired and rows["P3"].expired
    assert rows["P1"].categories == "일자리,주거" and rows["P1"].record.startswith('{"plcyNo": "P1"')
    assert [p.plcy_no for p in cat.list_policies(public_only=True)] == ["P1", "P2"]
    v2 = cat.catalogue_version()
    assert v2 != v1 and v2[2] == 2
    # nothing changed: same version; un-marking expiry changes it
    cat.upsert_policies([_pol("P1")], _decide, expire_before="2026-01-01")
    assert cat.catalogue_version() == v2
    cat.upsert_policies([], _decide, expire_before="2025-01-01")
    assert cat.catalogue_version()[2] == 1


def test_crowd_series_idempotent_upsert_and_reads(store) -> None:
    s = store.crowd_series()
    series = {("시청", "ridership"): ("명", "day"), ("서울광장", "population"): ("명", "5min"),
              ("서울", "temp"): ("℃", "day")}
    points = [("시청", "ridership", "2025-05-01", 100.0), ("시청", "ridership", "2025-05-02", 120.0),
              ("서울광장", "population", "2025-05-05T10:00", 20000.0),
              ("서울광장", "population", "2025-05-05T12:00", 27000.0), ("서울", "temp", "2025-05-01", 18.5)]
    profiles = [("시청", "1", "상선", "평일", "08:00", 120.5), ("시청", "1", "상선", "평일", "08:30", 99.0)]
    events = [("시청", "2025-05-05", "어린이날 행사", "행사", 30.0), ("시청", "2025-05-06", "집회", "시위", None)]
    assert s.put_series("a.csv", series, points, profiles, events) == {"points": 5, "profiles": 2, "events": 2}
    assert s.put_series("a.csv", series, points, profiles, events) == {"points": 0, "profiles": 2, "events": 0}
    # a changed value of a stored point is updated in place, not added
    changed = [("시청", "ridership", "2025-05-02", 150.0), ("시청", "ridership", "2025-05-03", 90.0)]
    assert s.put_series("b.csv", {("시청", "ridership"): ("명", "day")}, changed, [], [])["points"] == 1
    assert s.count("crowd_points") == 6 and s.count("crowd_events") == 2 and s.count("crowd_profiles") == 2
    with pytest.raises(ValueError):
        s.count("documents")
    listed = {(r["place"], r["metric"]): r for r in s.series_list()}
    assert listed[("시청", "ridership")] | {} == {"place": "시청", "metric": "ridership", "unit": "명", "freq": "day",
                                                "source": "b.csv", "n": 3, "first": "2025-05-01",
                                                "last": "2025-05-03"}
    rows, unit = s.daily_peaks("ridership")
    assert rows == [("시청", "2025-05-01", 100.0), ("시청", "2025-05-02", 150.0), ("시청", "2025-05-03", 90.0)]
    assert unit == "명"
    assert s.daily_peaks("population") == ([("서울광장", "2025-05-05", 27000.0)], "명")
    assert s.daily_peaks("nothing") == ([], "")
    assert s.daily_values(["temp", "rain"]) == [("temp", "2025-05-01", 18.5)]
    assert s.events_list() == events
    assert s.profile_cells("시청") == profiles and s.profile_cells("없음") == []


def test_crowd_runs_and_alerts(store) -> None:
    s = store.crowd_series()
    ids = [s.save_run("forecast", {"n": i, "장소": "시청"}, keep=3) for i in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    got = s.runs("forecast", limit=10)
    assert [(r[0], r[2]["n"]) for r in got] == [(ids[4], 4), (ids[3], 3), (ids[2], 2)]  # the newest 3 kept
    assert got[0][1] and s.runs("backtest") == []
    a = {"id": "a1", "place": "시청", "kind": "threshold", "level": "주의", "target": "2025-05-05", "설명": "혼잡"}
    assert s.put_alert("a1", "시청", "threshold", "주의", "2025-05-05", a) is True
    assert s.put_alert("a1", "시청", "threshold", "주의", "2025-05-05", a) is False
    assert s.put_alert("a2", "시청", "threshold", "경계", "2025-05-04", {"id": "a2"}) is True
    assert s.put_alert("b1", "혜화", "anomaly", "관심", "2025-05-06", {"id": "b1"}) is True
    assert [d["id"] for d, _, _ in s.alerts()] == ["a2", "a1", "b1"]
    s.deactivate_alerts("시청", "threshold", ["a1"])
    assert [(d["id"], active) for d, _, active in s.alerts("시청", active_only=False)] == [("a2", False), ("a1", True)]
    assert [d["id"] for d, _, _ in s.alerts()] == ["a1", "b1"]
    s.deactivate_alerts("시청", "threshold", [])
    assert [d["id"] for d, _, _ in s.alerts("시청")] == []
    assert s.alerts()[0][0] == {"id": "b1"} and s.alerts(limit=0) == []


def test_services_use_only_the_contract(store, tmp_path: Path) -> None:
    """The youth and crowd services run unchanged on every backend."""
    from datetime import date

    from conftest import shared_path

    from dasan import config
    from dasan.apps.crowd import service
    from dasan.apps.crowd.series_store import CrowdStore
    from dasan.apps.youth.catalogue import catalogue_version, ingest, load_policies

    src = shared_path("data", "youth-policy", "ontong_policies_2025.csv")
    rep = ingest(store, [src], today=date(2025, 9, 1))
    assert (rep.added, rep.total) == (1604, 1604) and 0 < rep.expired < 1604
    v = catalogue_version(store)
    again = ingest(store, [src], today=date(2025, 9, 1))
    assert (again.added, again.updated, again.unchanged, again.expired) == (0, 0, 1604, rep.expired)
    assert catalogue_version(store) == v
    pols = load_policies(store)
    assert len(pols) == 1604 and sum(p.expired_marked for p in pols) == rep.expired

    out = service.ingest(store, [str(config.examples_dir() / "crowd" / "citydata_sample.json")])
    assert out[0]["new"]["points"] > 0
    assert service.ingest(store, [str(config.examples_dir() / "crowd" / "citydata_sample.json")])[0]["new"][
        "points"] == 0
    series, unit = CrowdStore.from_store(store).daily("population")
    assert series == {"서울광장": {date(2025, 5, 5): 27000.0}} and unit == "명"


def test_pg_youth_policies_row_level_security(pg_url: str, tmp_path: Path) -> None:
    """On PostgreSQL the database also keeps 민감 policies from a 공개 principal's scope, even
    when the application forgets its own filter."""
    from dasan.store.postgres.db import AccessScope

    s = open_store(tmp_path, url=pg_url)
    try:
        cat = s.policy_catalogue()
        cat.upsert_policies([_pol("Q1"), _pol("Q2", level="민감"), _pol("Q3", level="기밀")], _decide,
                            expire_before="2025-01-01")
        with s.scoped(AccessScope(0)):
            assert [p.plcy_no for p in cat.list_policies()] == ["Q1"]
            assert cat.catalogue_version()[0] == 1
        with s.scoped(AccessScope(1)):
            assert [p.plcy_no for p in cat.list_policies()] == ["Q1", "Q2"]
        with s.scoped(None):
            assert cat.list_policies() == []
        assert len(cat.list_policies()) == 3  # the application's own scope
    finally:
        s.close()
