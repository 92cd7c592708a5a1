"""An archive, not a pile: updated releases replace their earlier versions; 정책브리핑 JSON.

The 정책브리핑 records here carry real release text (the body of a real 교육부 release from
../shared/data/press-moe, as the API gives it: HTML in ``DataContents``).
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner
from conftest import shared_path

from dasan.cli import cli
from dasan.ingest.pipeline import ingest_paths
from dasan.ingest.readers import read_file
from dasan.store import open_store


def _body_html(name: str, limit: int = 8) -> str:
    doc = read_file(shared_path("data", "press-moe", name))
    paras = [b.text for b in doc.blocks if b.kind == "paragraph" and b.text and len(b.text) > 40][:limit]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paras)


def _record(item_id: str, title: str, body: str, *, embargo: str = "", status: str = "I",
            modified: str = "2026-05-22 15:00:00") -> dict:
    return {"NewsItemId": item_id, "ContentsStatus": status, "MinisterCode": "교육부", "Title": title,
            "SubTitle1": "5월 27일부터 27개 모델 대상으로 유튜브 실시간 공개평가 시작",
            "ApproveDate": "2026-05-22 15:00:00", "EmbargoDate": embargo, "ModifyDate": modified,
            "OriginalUrl": f"https://www.korea.kr/briefing/pressReleaseView.do?newsId={item_id}",
            "DataContents": body, "FileList": [{"FileName": "붙임1.hwpx"}]}


def test_briefing_json_records_become_press_documents(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    body1, body2 = _body_html("106254.hwpx"), _body_html("105222.hwpx")
    envelope = {"response": {"header": {"resultCode": "0"}, "body": {"items": {"item": [
        _record("156700001", "특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입", body1,
                embargo="2999-05-25 09:00:00"),
        _record("156700002", "제9기 교육부 「양성평등교육심의회」 출범, 현장의 목소리 담는다", body2),
    ]}}}}
    (src / "briefing_20260522.json").write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")
    store = open_store(tmp_path / "data")
    try:
        report = ingest_paths(store, [src], collection="보도자료").summary()
        assert report["ingested"] == 2 and not report["failed"]
        docs = {d.metadata["news_item_id"]: d for d in store.list_documents()}
        first = docs["156700001"]
        assert first.kind == "press" and first.format == "briefing"
        assert first.title == "특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입"
        assert first.metadata["embargo"] == "2999-05-25T09:00:00+09:00"  # still under embargo
        assert first.metadata["ministry"] == "교육부" and first.metadata["release_key"] == "정책브리핑:156700001"
        assert docs["156700002"].metadata["immediate"] is True  # no EmbargoDate: public on approval
        chunks = store.chunks_of(first.id)
        assert chunks and all(c.context.startswith(first.title) for c in chunks)
        assert any("글로컬" in c.text for c in chunks)
        # the same file again: unchanged
        again = ingest_paths(store, [src], collection="보도자료").summary()
        assert again["unchanged"] == 2 and again["ingested"] == 0
        # an update of one record, delivered in another file: replaces, never duplicates
        upd = _record("156700001", "특성화지방대학(글로컬대학) 성과평가, 유튜브 실시간 생중계 첫 도입(수정)",
                      body1 + "<p>평가 일정이 일부 변경되었습니다.</p>", embargo="2026-05-25 09:00:00",
                      status="U", modified="2026-05-23 10:00:00")
        (src / "briefing_20260523.json").write_text(json.dumps([upd], ensure_ascii=False), encoding="utf-8")
        third = ingest_paths(store, [src / "briefing_20260523.json"], collection="보도자료").summary()
        assert third["ingested"] == 1 and third["replaced"] == 1
        docs = [d for d in store.list_documents() if d.metadata.get("news_item_id") == "156700001"]
        assert len(docs) == 1 and docs[0].title.endswith("(수정)")
        assert docs[0].metadata["contents_status"] == "U"
        assert len(store.list_documents()) == 2
    finally:
        store.close()


def test_bad_briefing_records_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"NewsItemId": "", "DataContents": "<p>본문</p>"}]), encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"제목": "일반 JSON", "본문": "NewsItemId라는 단어가 들어간 일반 문서"},
                                ensure_ascii=False), encoding="utf-8")
    store = open_store(tmp_path / "data")
    try:
        report = ingest_paths(store, [bad, other]).summary()
        assert [Path(f["path"]).name for f in report["failed"]] == ["bad.json"]
        assert "NewsItemId" in report["failed"][0]["error"]
        assert report["ingested"] == 1  # the ordinary JSON file is read as before
    finally:
        store.close()


def _copy_with(tmp: Path, name: str, out_name: str, old: str, new: str) -> Path:
    src = zipfile.ZipFile(shared_path("data", "press-moe", name))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "Contents/section0.xml" and old:
                text = data.decode("utf-8")
                assert old in text
                data = text.replace(old, new, 1).encode("utf-8")
            out.writestr(info, data)
    path = tmp / out_name
    path.write_bytes(buf.getvalue())
    return path


def test_a_corrected_release_under_another_file_name_replaces_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    first = _copy_with(folder, "105222.hwpx", "105222.hwpx", "", "")
    store = open_store(tmp_path / "data")
    try:
        ingest_paths(store, [first], collection="보도자료")
        before = store.list_documents()
        assert len(before) == 1 and before[0].metadata["release_key"].startswith("보도자료:교육부:")
        fixed = _copy_with(folder, "105222.hwpx", "105222_정정.hwpx", "위원 21명", "위원 22명")
        report = ingest_paths(store, [fixed], collection="보도자료").summary()
        assert report["ingested"] == 1 and report["replaced"] == 1
        after = store.list_documents()
        assert len(after) == 1 and after[0].source_path.endswith("105222_정정.hwpx")
        assert any("22명" in c.text for c in store.chunks_of(after[0].id))
        # another release of the same ministry stays
        ingest_paths(store, [shared_path("data", "press-moe", "105238.hwpx")], collection="보도자료")
        assert len(store.list_documents()) == 2
    finally:
        store.close()


def test_cli_ingest_reports_replacements(tmp_path: Path) -> None:
    src = tmp_path / "b.json"
    src.write_text(json.dumps([_record("9001", "청년 정책 발표", _body_html("106254.hwpx", 3))], ensure_ascii=False),
                   encoding="utf-8")
    out = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "ingest", str(src), "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["ingested"] == 1 and body["replaced"] == 0
