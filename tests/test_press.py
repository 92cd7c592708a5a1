"""Press-release parser on made-up releases in the usual government layouts."""

from __future__ import annotations

import pytest

from dasan.errors import ParseError
from dasan.ingest.press import parse_embargo, parse_press_release
from dasan.ingest.structure import detect_kind
from dasan.types import Block, Document


def P(text: str) -> Block:
    return Block("paragraph", text)


def T(*rows: list[str]) -> Block:
    rows_l = [list(r) for r in rows]
    return Block("table", " ".join(" ".join(r) for r in rows_l), rows=rows_l)


def release_tables() -> Document:
    """Header and contacts as tables (HWP/HWPX/DOCX readers)."""
    blocks = [
        T(["보도자료", "", "국토교통부"],
          ["보도시점", "2026. 6. 23.(화) 11:00 이후 (6. 24.(수) 조간)", "배포", "2026. 6. 23.(화)"]),
        Block("heading", "여름철 철도시설 안전 특별점검 본격 추진", level=1),
        P("- 7월부터 전국 주요 역사ㆍ선로 1,200곳 집중 점검 -"),
        P("- 폭염ㆍ집중호우 대비 비상대응체계도 함께 가동 -"),
        P("□ 국토교통부(장관 김가상)는 여름철 폭염과 집중호우에 대비하여 6월 24일부터 8월 31일까지 "
          "전국 철도시설을 대상으로 특별점검을 실시한다고 밝혔다."),
        P("ㅇ 이번 점검은 선로, 전차선, 역사 배수시설 등 취약시설을 중심으로 진행된다."),
        P("- 특히 선로 온도*가 높아지는 구간에는 살수 설비를 추가로 배치한다."),
        P("* 레일 온도가 섭씨 55도를 넘으면 열차 서행 운전"),
        P("ㅇ 점검에는 철도운영자와 지방자치단체가 함께 참여한다."),
        Block("heading", "< 향후 계획 >", level=2),
        P("□ 국토교통부는 점검 결과를 바탕으로 9월까지 보완 조치를 마칠 계획이다."),
        P("※ 점검 결과는 국토교통부 누리집에 공개"),
        T(["담당 부서", "철도국", "책임자", "과  장", "홍길동", "(044-201-3938)"],
          ["", "철도안전정책과", "담당자", "사무관", "김철수", "(044-201-3939)"]),
        P("붙임 1. 특별점검 세부 추진계획 1부."),
        P("2. 여름철 철도 이용 안전수칙 1부.  끝."),
        P("붙임 1  특별점검 세부 추진계획"),
        P("1. 점검 기간: 2026. 6. 24. ~ 8. 31."),
        P("2. 점검 대상: 선로, 전차선, 역사 배수시설"),
    ]
    return Document(source="summer-rail.hwpx", format="hwpx", blocks=blocks)


def release_paragraphs() -> Document:
    """Header as plain paragraphs (PDF/text), contacts only in the closing sentence."""
    blocks = [
        P("행정안전부 보도자료"),
        P("보도일시: 2026.6.23.(화) 11:00"),
        P("배포일시: 2026.6.22.(월) 14:00"),
        P("지진 대피소 안내 서비스 전면 개편"),
        P("◆ 스마트폰으로 가까운 대피소를 바로 안내"),
        P("◇ 7월 1일부터 전국 지자체에서 시행"),
        P("□ 행정안전부는 지진이 발생했을 때 가장 가까운 대피소를 안내하는 서비스를 개편했다고 밝혔다."),
        P("○ 새 서비스는 위치 정보를 이용해 도보 경로를 함께 제공한다."),
        P("▶ 대피소 정보는 매월 갱신된다."),
        P("이 보도자료와 관련하여 보다 자세한 내용이나 취재를 원하시면 행정안전부 지진방재정책과 "
          "이영희 주무관(☎ 044-205-4123)에게 연락주시기 바랍니다."),
    ]
    return Document(source="quake.pdf", format="pdf", blocks=blocks)


def test_detect_kind() -> None:
    assert detect_kind(release_tables()) == "press"
    assert detect_kind(release_paragraphs()) == "press"


def test_header_from_tables() -> None:
    pr = parse_press_release(release_tables())
    assert pr.ministry == "국토교통부"
    assert pr.embargo == "2026-06-23T11:00:00+09:00"
    assert pr.edition == "조간" and pr.edition_date == "2026-06-24"
    assert pr.distributed == "2026-06-23" and not pr.immediate
    assert pr.title == "여름철 철도시설 안전 특별점검 본격 추진"
    assert pr.subtitles == ["7월부터 전국 주요 역사ㆍ선로 1,200곳 집중 점검", "폭염ㆍ집중호우 대비 비상대응체계도 함께 가동"]
    assert pr.release_date == "2026-06-23"


def test_contacts_from_table() -> None:
    pr = parse_press_release(release_tables())
    assert pr.departments == ["철도국 철도안전정책과"]
    assert {c.department for c in pr.contacts} == {"철도국 철도안전정책과"}
    by_role = {c.role: c for c in pr.contacts}
    assert by_role["책임자"].position == "과장" and by_role["책임자"].name == "홍길동"
    assert by_role["책임자"].phones == ["044-201-3938"]
    assert by_role["담당자"].position == "사무관" and by_role["담당자"].name == "김철수"
    assert by_role["담당자"].phones == ["044-201-3939"]


def test_bullet_tree_and_sections() -> None:
    pr = parse_press_release(release_tables())
    assert [b.marker for b in pr.bullets] == ["□", "□"]
    first, second = pr.bullets
    assert [c.marker for c in first.children] == ["ㅇ", "ㅇ"]
    dash = first.children[0].children[0]
    assert dash.marker == "-" and dash.children[0].marker == "*"
    assert first.section is None and second.section == "< 향후 계획 >"
    assert second.children[0].marker == "※"
    assert "살수 설비" in first.full_text and "55도" in first.full_text


def test_attachments() -> None:
    pr = parse_press_release(release_tables())
    labels = [(a.label, a.title) for a in pr.attachments]
    assert labels[0] == ("붙임 1", "특별점검 세부 추진계획 1부.")
    assert labels[1] == ("붙임 2", "여름철 철도 이용 안전수칙 1부.")
    assert any("점검 기간" in line for line in pr.attachments[0].lines)
    assert all("점검 기간" not in b.full_text for b in pr.bullets)


def test_paragraph_header_and_inquiry_contact() -> None:
    pr = parse_press_release(release_paragraphs())
    assert pr.ministry == "행정안전부"
    assert pr.embargo == "2026-06-23T11:00:00+09:00"
    assert pr.distributed == "2026-06-22"
    assert pr.title == "지진 대피소 안내 서비스 전면 개편"
    assert [b.marker for b in pr.bullets] == ["◆", "□"]
    assert pr.bullets[0].children[0].marker == "◇"
    assert pr.bullets[1].children[0].children[0].marker == "▶"
    c = pr.contacts[0]
    assert (c.department, c.name, c.position, c.phones) == ("지진방재정책과", "이영희", "주무관", ["044-205-4123"])


def test_immediate_and_evening_releases() -> None:
    doc = Document(source="a.hwp", format="hwp", blocks=[
        T(["보 도 자 료", "고용노동부"], ["보도시점", "즉시 보도", "배포", "2026. 3. 2.(월)"]),
        P("청년 일자리 박람회 개최"),
        P("□ 고용노동부는 3월 둘째 주에 청년 일자리 박람회를 연다."),
        T(["담당 부서", "청년고용정책과", "책임자", "과장 박서준 (044-202-7400)"],
          ["", "", "담당자", "서기관 최민지 (044-202-7401)", "주무관 정하늘 (044-202-7402)"]),
    ])
    pr = parse_press_release(doc)
    assert pr.immediate and pr.embargo is None and pr.distributed == "2026-03-02"
    assert pr.ministry == "고용노동부" and pr.release_date == "2026-03-02"
    names = [(c.role, c.position, c.name, c.phones[0]) for c in pr.contacts]
    assert names == [
        ("책임자", "과장", "박서준", "044-202-7400"),
        ("담당자", "서기관", "최민지", "044-202-7401"),
        ("담당자", "주무관", "정하늘", "044-202-7402"),
    ]
    assert pr.departments == ["청년고용정책과"]

    doc2 = Document(source="b.txt", format="txt", blocks=[
        P("보도자료  보건복지부"), P("보도시점: 2026. 6. 23.(화) 석간   배포: 2026. 6. 22.(월)"),
        P("감염병 예방 수칙 개정"), P("□ 손 씻기 권고 기준이 바뀐다."),
    ])
    pr2 = parse_press_release(doc2)
    assert pr2.embargo == "2026-06-23T12:00:00+09:00" and pr2.edition == "석간"
    assert pr2.distributed == "2026-06-22" and pr2.ministry == "보건복지부"


@pytest.mark.parametrize(
    ("value", "ref", "embargo", "edition", "edition_date", "immediate"),
    [
        ("2026. 6. 23.(화) 11:00 이후 (6. 24.(수) 조간)", None, "2026-06-23T11:00:00+09:00", "조간", "2026-06-24", False),
        ("2026.6.23.(화) 11:00", None, "2026-06-23T11:00:00+09:00", None, None, False),
        ("2026. 6. 24.(수) 조간", None, "2026-06-24T06:00:00+09:00", "조간", "2026-06-24", False),
        ("2026. 6. 23.(화) 석간", None, "2026-06-23T12:00:00+09:00", "석간", "2026-06-23", False),
        ("2026. 6. 23.(화) 12:00 이후 (6. 23.(화) 석간)", None, "2026-06-23T12:00:00+09:00", "석간", "2026-06-23", False),
        ("2026년 6월 23일(화) 오후 2시 30분", None, "2026-06-23T14:30:00+09:00", None, None, False),
        ("2026. 12. 31.(목) 12:00 이후 (1. 1.(금) 조간)", None, "2026-12-31T12:00:00+09:00", "조간", "2027-01-01", False),
        ("6. 23.(화) 11:00 이후", 2026, "2026-06-23T11:00:00+09:00", None, None, False),
        ("2026-06-23 09:30", None, "2026-06-23T09:30:00+09:00", None, None, False),
        ("즉시 보도", None, None, None, None, True),
        ("배포 즉시", None, None, None, None, True),
    ],
)
def test_parse_embargo(value, ref, embargo, edition, edition_date, immediate) -> None:
    got = parse_embargo(value, ref)
    assert (got["embargo"], got["edition"], got["edition_date"], got["immediate"]) == (
        embargo, edition, edition_date, immediate)


def test_list_item_blocks_with_separate_markers() -> None:
    doc = Document(source="c.docx", format="docx", blocks=[
        P("보도자료"), P("보도시점: 2026. 1. 5.(월) 06:00"), P("소방청"),
        P("겨울철 화재 예방 대책"),
        Block("list_item", "난방기구 화재가 늘고 있다.", meta={"bullet": "□"}),
        Block("list_item", "전기히터 화재가 가장 많다.", level=1, meta={"bullet": "○"}),
    ])
    pr = parse_press_release(doc)
    assert pr.ministry == "소방청" and pr.embargo == "2026-01-05T06:00:00+09:00"
    assert pr.bullets[0].text == "난방기구 화재가 늘고 있다."
    assert pr.bullets[0].children[0].marker == "○"


def test_empty_release_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="본문"):
        parse_press_release(Document(source="x", format="txt", blocks=[P("   ")]))


EXAMPLES = [
    ("20260623_국토교통부_여름철_도시철도_안전점검_강화.hwpx", "국토교통부", "2026-06-23T11:00:00+09:00", False,
     "여름철 폭염·집중호우 대비 도시철도 안전점검 강화", 4, 2),
    ("20261124_행정안전부_연말연시_인파밀집_안전대책.hwp", "행정안전부", "2026-11-25T12:00:00+09:00", False,
     "연말연시 인파밀집 안전관리 특별대책 추진", 4, 2),
    ("20260310_국무조정실_2026년_청년정책_시행계획.pdf", "국무조정실", None, True,
     "2026년 청년정책 시행계획 확정, 5대 분야 186개 과제 추진", 3, 1),
]


@pytest.mark.parametrize(("name", "ministry", "embargo", "immediate", "title", "n_contacts", "n_att"), EXAMPLES)
def test_example_releases_through_readers(name, ministry, embargo, immediate, title, n_contacts, n_att) -> None:
    """The repository's example releases, read by the real HWP/HWPX/PDF readers."""
    from dasan.config import examples_dir
    from dasan.ingest.readers import read_file

    doc = read_file(examples_dir() / "press" / name)
    assert detect_kind(doc) == "press"
    pr = parse_press_release(doc)
    assert (pr.ministry, pr.embargo, pr.immediate, pr.title) == (ministry, embargo, immediate, title)
    assert len(pr.contacts) == n_contacts and all(c.name and c.phones and c.position for c in pr.contacts)
    assert len(pr.attachments) == n_att
    assert pr.bullets and all(b.marker == "□" for b in pr.bullets)
    assert not any("044-" in b.full_text for b in pr.bullets)  # contact table kept out of the body
    # laid out like real releases: 배포 with a time, and the subtitles under the headline
    assert pr.distributed_at and len(pr.subtitles) == 2 and not pr.embargo_hold
    if not immediate:
        assert set(pr.embargo_times) == {"인터넷", "지면"} and pr.edition in ("조간", "석간")


def test_memo_mentioning_press_release_is_not_press() -> None:
    memo = Document(source="m.txt", format="txt", blocks=[
        P("홍보 회의 결과"), P("홍보팀은 어제 보도자료를 배포하였고, 담당 과장이 질의에 답했다."),
        P("다음 회의는 다음 주에 연다."),
    ])
    assert detect_kind(memo) == "generic"
