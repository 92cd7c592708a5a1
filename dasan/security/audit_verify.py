"""Verification of the audit chain (see :mod:`dasan.security.audit` for the canonical form).

One streaming pass over ``entries`` in stored ``seq`` order, inside one read snapshot:

* a row whose hash matches its own fields at its stored ``seq`` is *in place*;
* otherwise its original position is recovered from the chain: its parent's position + 1
  (the parent found by hash; for a missing parent, nearby positions are tried, which catches a
  deletion followed by renumbering). A row that hashes correctly there was *moved* (reordered,
  or a copy when that position is already taken); one that hashes nowhere was *edited*;
  two edited rows whose contents fit each other's slot were *swapped* (reordered);
* gaps between the positions present are *deleted* entries; positions after the last present
  one up to the anchor's ``seq`` are a *truncated* tail; neighbours in place must link
  (``parent`` = previous ``hash``) with non-decreasing ``ts``.

Memory stays small: 8 bytes per entry plus state for the rows that failed.
"""

from __future__ import annotations

import sqlite3
from array import array
from typing import TYPE_CHECKING, Any

from dasan.security.audit import _COLUMNS, GENESIS, AuditError, Head, Problem, VerifyReport, read_head

if TYPE_CHECKING:
    from dasan.security.audit import AuditLog

MAX_PROBLEMS = 10_000
MAX_SWAP_CHECK = 64
MAX_FALLBACK_ROWS = 1_000
FALLBACK_SHIFT = 16
MAX_DEPTH = 200
BATCH = 1_000

KIND_KO = {
    "edited": "수정됨", "deleted": "삭제됨", "reordered": "순서 바뀜", "truncated": "끝부분 잘림",
    "inserted": "끼워 넣음", "anchor": "기준 파일", "key": "키", "corrupt": "손상",
}

Row = tuple[Any, ...]


def _range_ko(a: int, b: int) -> str:
    return f"{a}번 항목이" if a == b else f"{a}~{b}번 항목 {b - a + 1}건이"


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.omitted = 0

    def add(self, seq: int, kind: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(seq, kind, message))
        else:
            self.omitted += 1


class _Resolver:
    """Finds where a row that does not hash at its stored seq really belongs."""

    def __init__(self, log: AuditLog, conn: sqlite3.Connection) -> None:
        self.log, self.conn = log, conn
        self.memo: dict[int, int | None] = {}
        self.fallbacks = 0

    def find(self, digest: str) -> Row | None:
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE hash = ? ORDER BY seq LIMIT 8",
                                 (digest,)).fetchall()
        for r in rows:
            if self.log.row_intact(r):
                return r
        return rows[0] if rows else None

    def position(self, row: Row, depth: int = 0) -> int | None:
        seq = row[0]
        if seq in self.memo:
            return self.memo[seq]
        if self.log.row_intact(row):
            return seq
        result: int | None = None
        if depth < MAX_DEPTH:
            candidates: list[int] = []
            if row[6] == GENESIS:
                candidates = [1]
            else:
                parent = self.find(str(row[6]))
                if parent is not None:
                    p = self.position(parent, depth + 1)
                    candidates = [p + 1] if p is not None else []
                elif self.fallbacks < MAX_FALLBACK_ROWS:
                    self.fallbacks += 1
                    candidates = [seq + d for d in range(1, FALLBACK_SHIFT + 1)]
                    candidates += [seq - d for d in range(1, FALLBACK_SHIFT + 1) if seq - d > 0]
            for c in candidates:
                if c != seq and self.log.row_intact(row, seq=c):
                    result = c
                    break
        self.memo[seq] = result
        return result


def verify_log(log: AuditLog) -> VerifyReport:
    problems = _Problems()
    head: Head | None = None
    try:
        head = read_head(log.head_path)
    except AuditError as e:
        problems.add(0, "anchor", f"{e.message} 끝부분이 잘렸는지 확인할 수 없습니다.")
    head_info = {"seq": head.seq, "hash": head.hash} if head else None

    conn: sqlite3.Connection | None = None
    if log.db_path.exists():
        try:
            conn = log._open()
        except AuditError as e:
            problems.add(0, "corrupt", e.message)
            return _report(problems, 0, head_info)
    if conn is None:
        if head is not None and head.seq > 0:
            problems.add(1, "truncated", f"감사 로그 파일이 없습니다: 1~{head.seq}번 항목이 모두 사라졌습니다.")
        return _report(problems, 0, head_info)
    verifier = log
    try:
        if log.key_problem:
            problems.add(0, "key", log.key_problem)
            if log.key is not None and log.hash_alg == "sha256":
                from dasan.security.audit import AuditLog as _Log

                verifier = _Log(log.db_path, key="")  # judge an unkeyed log by its own (plain) hashes
            else:
                n = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
                return _report(problems, n, head_info)
        conn.execute("BEGIN")
        try:
            checked = _scan(verifier, conn, problems, head)
        finally:
            conn.execute("COMMIT")
    except sqlite3.Error as e:
        problems.add(0, "corrupt", f"감사 로그를 끝까지 읽을 수 없습니다: {log.db_path} ({e}). 백업에서 복구하세요.")
        return _report(problems, 0, head_info)
    finally:
        conn.close()
    return _report(problems, checked, head_info)


def _report(problems: _Problems, checked: int, head: dict[str, Any] | None) -> VerifyReport:
    items = sorted(problems.items, key=lambda p: p.seq)
    return VerifyReport(ok=not items and not problems.omitted, checked=checked, problems=items, head=head,
                        omitted=problems.omitted)


def _scan(log: AuditLog, conn: sqlite3.Connection, problems: _Problems, head: Head | None) -> int:
    resolver = _Resolver(log, conn)
    positions = array("q")
    moved: list[tuple[int, int]] = []  # (stored seq, original seq)
    unresolved: list[Row] = []
    prev: Row | None = None
    prev_in_place = False
    checked = 0
    last = 0
    while True:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE seq > ? ORDER BY seq LIMIT ?",
                            (last, BATCH)).fetchall()
        if not rows:
            break
        for row in rows:
            checked += 1
            seq = row[0]
            in_place = log.row_intact(row)
            pos = seq if in_place else resolver.position(row)
            if pos is None:
                unresolved.append(row)
                positions.append(seq)
            else:
                positions.append(pos)
                if pos != seq:
                    moved.append((seq, pos))
            if in_place and seq == 1 and row[6] != GENESIS:
                problems.add(1, "edited", "1번 항목의 부모 해시가 시작값이 아닙니다 (항목이 다시 만들어졌습니다).")
            if in_place and prev is not None and prev_in_place and prev[0] == seq - 1:
                if row[6] != prev[7]:
                    problems.add(prev[0], "edited",
                                 f"{prev[0]}번 항목이 바뀌고 해시가 다시 계산되었습니다 "
                                 f"({seq}번 항목이 가리키는 부모 해시와 다름).")
                elif str(row[1]) < str(prev[1]):
                    problems.add(seq, "reordered",
                                 f"{seq}번 항목의 시각({row[1]})이 앞 항목({prev[1]})보다 이릅니다 (순서가 바뀜).")
            prev, prev_in_place = row, in_place
        last = rows[-1][0]

    _report_unresolved(log, unresolved, problems)
    dupes = _gaps_and_dupes(positions, problems, head)
    _report_moved(moved, dupes, problems)
    if head is not None and positions and head.seq <= max(positions):
        if conn.execute("SELECT 1 FROM entries WHERE hash = ? LIMIT 1", (head.hash,)).fetchone() is None:
            problems.add(head.seq, "edited",
                         f"{head.seq}번 항목이 기준 파일(audit.head)에 적힌 해시와 다릅니다 "
                         "(항목이 바뀌고 해시가 다시 계산되었습니다).")
    elif head is None and checked and not any(p.kind == "anchor" for p in problems.items):
        problems.add(0, "anchor", "기준 파일(audit.head)이 없습니다: 끝부분이 잘렸는지 확인할 수 없습니다. "
                                  "지운 적이 없다면 변조를 의심하세요.")
    return checked


def _report_unresolved(log: AuditLog, rows: list[Row], problems: _Problems) -> None:
    swapped: dict[int, int] = {}
    few = rows[:MAX_SWAP_CHECK]
    for a in few:
        for b in few:
            if a is not b and log.row_intact((b[0], *a[1:6], b[6], b[7])):
                swapped[a[0]] = b[0]
                break
    for r in rows:
        seq = r[0]
        if seq in swapped:
            problems.add(seq, "reordered",
                         f"{seq}번 위치에 원래 {swapped[seq]}번 항목의 내용이 있습니다 (순서가 바뀜).")
        else:
            problems.add(seq, "edited", f"{seq}번 항목이 수정되었습니다 (내용이 저장된 해시와 맞지 않음).")


def _gaps_and_dupes(positions: array[int], problems: _Problems, head: Head | None) -> set[int]:
    dupes: set[int] = set()
    prev = 0
    for p in sorted(positions):
        if p == prev:
            dupes.add(p)
        elif p > prev + 1:
            problems.add(prev + 1, "deleted", f"{_range_ko(prev + 1, p - 1)} 삭제되었습니다.")
        prev = max(prev, p)
    if head is not None and head.seq > prev:
        problems.add(prev + 1, "truncated",
                     f"마지막 {_range_ko(prev + 1, head.seq)} 삭제되었습니다 "
                     f"(기준 파일 audit.head에는 {head.seq}번까지 기록됨).")
    return dupes


def _report_moved(moved: list[tuple[int, int]], dupes: set[int], problems: _Problems) -> None:
    i = 0
    while i < len(moved):
        seq, pos = moved[i]
        if pos in dupes:
            problems.add(seq, "inserted", f"{seq}번 항목은 {pos}번 항목을 복사해 끼워 넣은 것입니다.")
            i += 1
            continue
        j = i
        while (j + 1 < len(moved) and moved[j + 1][0] == moved[j][0] + 1
               and moved[j + 1][1] - moved[j + 1][0] == pos - seq and moved[j + 1][1] not in dupes):
            j += 1
        if j - i >= 2:
            end_seq, end_pos = moved[j]
            problems.add(seq, "reordered",
                         f"{seq}~{end_seq}번 위치에 원래 {pos}~{end_pos}번 항목이 있습니다 "
                         f"(번호가 {abs(pos - seq)}만큼 {'당겨짐' if pos > seq else '밀림'}).")
        else:
            for s, p in moved[i:j + 1]:
                problems.add(s, "reordered", f"{s}번 위치에 원래 {p}번 항목이 있습니다 (순서가 바뀜).")
        i = j + 1
