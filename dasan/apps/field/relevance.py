"""When does a source answer a field question? When it shares a specific word with it.

Railway documents all speak of 열차, 역, 승객 and 사고; those words make nothing relevant. A
procedure, article or record counts for a question only when it shares one of the question's
other words in its heading (or several in its text). This is what lets the field answer say
"no source" for a question outside its documents instead of returning the nearest section.
"""

from __future__ import annotations

from dasan.apps.field import records as rec

# Words every railway document has: they do not make a source relevant to a question.
GENERIC = frozenset(
    (  # noqa: SIM905 — one readable list of words
        "열차 전동차 지하철 도시철도 철도 역 역사 호선 승객 사람 직원 현장 사고 발생 상황 경우 방법 조치 대응 처리 "
        "무엇 뭐 어떻 어떡 어디 언제 누구 지금 먼저 다음 우리 해야 하 되 있 없 나 보 알 것 "
        "수 때 등 안 중 후 건 번 좀 관련 규정 법 법령 의무 조 항 운영 운영자 기관 확인 "
        "요 오늘 어제 작년 올해 역무원 승무원 기관사 작업자 근로자 동료 손님 "
    ).split()
)


def key_words(question: str) -> set[str]:
    """The question's specific words (Kiwi content morphemes of two syllables or more, everyday
    equipment names expanded), without the words every railway document has."""
    from dasan.korean.tokenize import tokenize_query

    low = rec._squash(question)
    extra = [w for key, words in rec.SYNONYMS.items() if key in low for w in words]
    toks = tokenize_query(question) + [t for w in extra for t in tokenize_query(w)]
    return {t for t in toks if len(t) >= 2 and t not in GENERIC and not t.isdigit()}


def shares(words: set[str], text: str) -> set[str]:
    """The words found in ``text`` (spacing ignored)."""
    flat = rec._squash(text)
    return {w for w in words if w in flat}
