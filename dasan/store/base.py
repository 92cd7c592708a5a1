"""The store contract every backend implements (SQLite now, PostgreSQL later)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Protocol

from dasan.types import Chunk, IndexRow


def now_iso(spec: str = "seconds") -> str:
    """The current UTC time as stored in every table (ISO 8601, ``spec`` = timespec)."""
    return datetime.now(UTC).isoformat(timespec=spec)


def read_migrations(folder: str) -> list[tuple[int, str]]:
    """The numbered ``NNNN_*.sql`` files of ``dasan/store/<folder>`` as (version, SQL), in order."""
    out = []
    for entry in resources.files("dasan.store").joinpath(folder).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(out)


@dataclass
class DocumentRecord:
    id: str
    collection: str
    source_path: str
    content_hash: str
    pipeline_version: int
    format: str
    kind: str
    title: str | None
    pages: int | None
    size_bytes: int
    n_chunks: int
    classification: str = "공개"
    metadata: dict[str, Any] = field(default_factory=dict)
    ingested_at: str = ""


@dataclass
class JobRecord:
    """An upload job as the store keeps it (its files' states as plain dicts)."""

    id: str
    owner: str
    collection: str
    level: str
    files: list[dict[str, Any]]
    created: float
    updated: float = 0.0
    done: bool = False
    attempts: int = 0
    #: the audit trail of the upload (actor, action, target, who, start_seq): its outcome is
    #: written by whoever completes the job
    trail: dict[str, Any] | None = None


@dataclass
class StoredPolicy:
    """One row of the youth-policy catalogue as the store keeps it (``record`` and
    ``conditions`` are JSON text; what they mean is up to :mod:`dasan.apps.youth.catalogue`)."""

    plcy_no: str
    name: str
    categories: str
    classification: str
    record: str
    conditions: str
    content_hash: str
    source: str = ""
    apply_end: str | None = None
    expired: bool = False


#: what :meth:`PolicyCatalogue.upsert_policies` asks the caller for each incoming row: given the
#: row and the stored one (None: not stored), one of "added", "updated", "unchanged", "older";
#: the store writes the row for "added" and "updated" only
PolicyDecision = Callable[[StoredPolicy, StoredPolicy | None], str]


class PolicyCatalogue(Protocol):
    """The youth-policy catalogue (issue 17) in the store: persistence only; what counts as
    newer or older and when a policy expires is the service's (dasan/apps/youth/catalogue.py)."""

    def upsert_policies(self, rows: Sequence[StoredPolicy], decide: PolicyDecision, *,
                        expire_before: str) -> dict[str, int]:
        """In one transaction: write each row that ``decide`` calls "added" or "updated" (keyed
        by ``plcy_no``, nothing deleted), then mark every row whose ``apply_end`` is before
        ``expire_before`` (ISO date) expired and every other row not expired. Returns the
        counts of each decision plus ``expired`` and ``total`` (rows stored afterwards)."""

    def list_policies(self, *, public_only: bool = False) -> list[StoredPolicy]:
        """All rows by ``plcy_no`` (``public_only``: 공개 rows only, for anonymous callers)."""

    def catalogue_version(self) -> tuple[int, str, int]:
        """(rows, latest update, expired rows): changes whenever a row is added, updated or
        (un)marked expired."""


#: a crowd series point: (place, metric, ts, value); ts is YYYY-MM-DD or YYYY-MM-DDTHH:MM
SeriesPoint = tuple[str, str, str, float]
#: a 30-minute congestion profile cell: (place, line, direction, day_type, slot, value)
ProfileCell = tuple[str, str, str, str, str, float]
#: a known event: (place, day ISO, name, category, rise_pct or None)
EventRow = tuple[str, str, str, str, float | None]


class SeriesStore(Protocol):
    """Crowd series, profiles, events, runs and alerts (issue 16) in the store. Writes are
    idempotent upserts: putting the same file twice changes nothing."""

    def put_series(self, source: str, series: Mapping[tuple[str, str], tuple[str, str]],
                   points: Sequence[SeriesPoint], profiles: Sequence[ProfileCell],
                   events: Sequence[EventRow]) -> dict[str, int]:
        """In one transaction: upsert the series ((place, metric) -> (unit, freq)), insert new
        points (a changed value of a stored point is updated in place), replace profile cells and
        insert new events. Returns ``points`` and ``events`` newly inserted, ``profiles`` written."""

    def series_list(self) -> list[dict[str, Any]]:
        """Per (place, metric): place, metric, unit, freq, source, n, first, last."""

    def daily_peaks(self, metric: str) -> tuple[list[tuple[str, str, float]], str]:
        """(place, day ISO, the day's maximum) of ``metric`` ordered by place and day, and the
        metric's unit ("" if unknown)."""

    def daily_values(self, metrics: Sequence[str]) -> list[tuple[str, str, float]]:
        """(metric, day ISO, value) of the daily (not intraday) points of ``metrics``."""

    def events_list(self) -> list[EventRow]: ...

    def profile_cells(self, place: str) -> list[ProfileCell]: ...

    def save_run(self, kind: str, payload: dict[str, Any], keep: int = 20) -> int:
        """Store a run (JSON payload), keeping the newest ``keep`` of its kind; returns its id."""

    def runs(self, kind: str, limit: int = 1) -> list[tuple[int, str, dict[str, Any]]]:
        """(id, created, payload) newest first."""

    def put_alert(self, alert_id: str, place: str, kind: str, level: str, target: str,
                  details: dict[str, Any]) -> bool:
        """Store an active alert; False when one with this id is stored already."""

    def deactivate_alerts(self, place: str, kind: str, keep: Iterable[str]) -> None: ...

    def alerts(self, place: str | None = None, active_only: bool = True,
               limit: int = 200) -> list[tuple[dict[str, Any], str, bool]]:
        """(details, created, active) ordered by target and place."""

    def count(self, table: str) -> int:
        """Rows of one crowd table (crowd_points, crowd_profiles, crowd_events, crowd_alerts,
        crowd_series)."""


@dataclass
class FeedEntry:
    """One entry of the index change feed (migration ``index_feed``): ``op`` is "add", "remove",
    "update" (a document, or one of its chunks, changed: level, embargo, metadata, text) with
    ``document_id`` set, or "collection" (a collection's level changed) with ``collection`` set."""

    seq: int
    document_id: str | None
    collection: str | None
    op: str


@dataclass
class Changes:
    """What :meth:`Store.changes_since` read, in one snapshot: the feed's identity and position
    and the entries after the number asked for, oldest first."""

    epoch: str  # this feed's identity: another store, or a store re-created, has another
    head: int  # the number of the last entry written
    floor: int  # entries up to this number were pruned
    entries: list[FeedEntry] = field(default_factory=list)

    def complete(self, since: int) -> bool:
        """Whether ``entries`` are every change after ``since`` (numbered ``since+1 .. head``
        without a gap): not when the feed was pruned past ``since``, when ``since`` is ahead of
        the feed (a store restored from a backup) or when entries were left out (a limit)."""
        if since < self.floor or since > self.head or len(self.entries) != self.head - since:
            return False
        return all(e.seq == since + i for i, e in enumerate(self.entries, 1))


#: entries the feed keeps (older ones are pruned as new ones are written; a reader further
#: behind than this rebuilds from every row)
FEED_KEEP = 200_000


class Store(Protocol):
    def find_by_source(self, collection: str, source_path: str) -> DocumentRecord | None: ...

    def get_document(self, document_id: str) -> DocumentRecord | None: ...

    def resolve_document_id(self, prefix: str) -> list[str]:
        """Ids of the documents whose id starts with ``prefix`` (what a user types)."""

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str] = ()) -> None:
        """Insert ``record`` with ``chunks`` atomically, replacing any document stored at the
        same (collection, source_path) and its chunks in the same transaction."""

    def put_documents(self, items: Sequence[tuple[DocumentRecord, list[Chunk]]]) -> None:
        """Bulk load: :meth:`put_document` for each (record, chunks) pair (no ``replaces``), in
        one transaction: the same rows, without a commit (or a round trip) per document."""

    def remove_document(self, document_id: str) -> bool: ...

    def find_by_release_key(self, collection: str, key: str) -> list[DocumentRecord]: ...

    def list_documents(self, collection: str | None = None) -> list[DocumentRecord]: ...

    def chunks_of(self, document_id: str) -> list[Chunk]: ...

    def iter_chunks(self, collection: str | None = None) -> Iterator[Chunk]: ...

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]: ...

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]: ...

    def index_rows(self, with_text: bool = True) -> list[IndexRow]:
        """Every chunk as the search index reads it (:class:`~dasan.types.IndexRow`), in store
        order (document id, ordinal); ``with_text=False``: ``context`` and ``text`` None."""

    def index_rows_of(self, document_ids: Sequence[str], collections: Sequence[str] = (),
                      with_text: bool = False) -> list[IndexRow]:
        """:meth:`index_rows` of the given documents and of every document in ``collections``
        only (same columns, same order), read in the application's own scope."""

    def changes_since(self, seq: int, limit: int | None = None) -> Changes:
        """The index change feed after entry ``seq`` (at most ``limit`` entries; ``limit=0``:
        only the feed's position), read in one snapshot. A reader applies the entries, then asks
        again from ``head``; when :meth:`Changes.complete` is false it must read every row."""

    def find_chunks_by_citation(self, prefix: str) -> list[Chunk]: ...

    def collections(self) -> list[dict[str, Any]]: ...

    def ensure_collection(self, name: str, level: str = "공개") -> None: ...

    def set_collection_level(self, name: str, level: str) -> bool: ...

    def set_document_level(self, document_id: str, level: str) -> bool: ...

    def set_document_embargo(self, document_id: str, embargo: str | None, *, by: str) -> bool: ...

    def collection_level(self, name: str) -> str | None: ...

    def collection_pii_policy(self, name: str) -> str: ...

    def set_collection_pii_policy(self, name: str, policy: str) -> bool: ...

    def directory(self) -> Any:
        """The principals directory (users, departments, keys) kept in this store:
        :class:`dasan.security.principals.Directory`."""

    def system_scope(self) -> contextlib.AbstractContextManager[None]:
        """A block of the application's own work (index builds, originals cleanup, jobs): reads
        see every row even inside a request whose principal may read fewer (PostgreSQL row-level
        security); a no-op where the store has no row-level security."""

    def policy_catalogue(self) -> PolicyCatalogue:
        """The youth-policy catalogue kept in this store."""

    def crowd_series(self) -> SeriesStore:
        """The crowd series kept in this store."""

    def save_job(self, job: JobRecord) -> None:
        """Insert or replace an upload job (does not change :meth:`generation`: no content changed)."""

    def get_job(self, job_id: str) -> JobRecord | None: ...

    def open_jobs(self) -> list[JobRecord]:
        """Jobs not done, oldest first."""

    def recover_jobs(self, node_lease_s: float) -> list[JobRecord]:
        """Open jobs a restarted server takes up, oldest first: each is claimed for this process
        in the same transaction (``attempts`` counted), so two processes restarting together
        never both take the same job. ``node_lease_s``: how long the claim holds before another
        process may take the job (stores with one process ignore it)."""

    def prune_jobs(self, keep: int) -> int:
        """Delete the oldest finished jobs beyond the newest ``keep``; returns how many."""

    def schema_version(self) -> int: ...

    def generation(self) -> int:
        """A counter that increases with every committed write."""

    def close(self) -> None: ...
