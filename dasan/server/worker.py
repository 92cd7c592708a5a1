"""``dasan worker``: runs upload jobs from the durable queue in PostgreSQL.

Several workers (and servers) share one queue, the ``jobs`` table: a worker claims the oldest
open job nobody holds — or whose holder stopped renewing its lease (killed with ``kill -9``, a
crashed host) — with ``SELECT … FOR UPDATE SKIP LOCKED``, so two workers never claim the same
job, and renews the lease while it works. Progress and completion are written only while the
lease is still this worker's (``save_job_leased``): a worker that lost its job (it stalled past
the lease and another took over) writes nothing, so a job completes once. The upload's audit
outcome entry is written just before the job is saved done, and only if the log does not hold
it yet (``AuditLog.append_once``, one transaction): a worker that dies between the two leaves
the job to the next holder, which finds the entry and writes no second one. A file whose ingest
was interrupted is ingested afresh by the next holder: a document is committed in one
transaction, and content-addressed ids make a repeated ingest of the same bytes a no-op.

The originals are read from ``<data_dir>/originals/<sha256>`` as the server saved them: servers
and workers must share the data directory (a network file system) or run on one host.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from dasan.errors import StoreError

log = logging.getLogger("dasan.worker")

DEFAULT_LEASE_S = 60.0
MAX_ATTEMPTS = 3


class Worker:
    def __init__(self, store: Any, data_dir: Path, *, name: str | None = None, lease_s: float = DEFAULT_LEASE_S,
                 poll_s: float = 1.0) -> None:
        if not hasattr(store, "claim_job"):
            raise StoreError("dasan worker에는 PostgreSQL 저장소가 필요합니다. DASAN_DATABASE_URL=postgresql://…을 설정하세요.")
        self.store = store
        self.data_dir = Path(data_dir)
        self.name = name or f"worker:{socket.gethostname()}:{os.getpid()}"
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._stop = threading.Event()
        self.completed: list[str] = []

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, once: bool = False) -> int:
        """Claim and run jobs until stopped (``once``: until the queue is empty); returns how many ran."""
        n = 0
        while not self._stop.is_set():
            rec = self.store.claim_job(self.name, self.lease_s)
            if rec is None:
                if once:
                    break
                self._stop.wait(self.poll_s)
                continue
            self.run_job(rec)
            n += 1
        return n

    def run_job(self, rec: Any) -> bool:
        """Ingest a claimed job's queued files; True when this worker completed it."""
        from dasan.server.jobs import Job, Originals

        job = Job.from_record(rec)
        originals = Originals(self.data_dir)
        lost = threading.Event()
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease_s / 3):
                if not self.store.renew_lease(job.id, self.name, self.lease_s):
                    lost.set()
                    return

        keeper = threading.Thread(target=renew, name=f"lease-{job.id}", daemon=True)
        keeper.start()
        try:
            for f in job.files:
                if f.status == "running":
                    f.status = "queued"  # interrupted under another holder: ingest afresh
                if f.status != "queued":
                    continue
                if lost.is_set():
                    log.warning("job %s: lease lost; leaving it to its new holder", job.id)
                    return False
                self._ingest(job, f, originals, rec.attempts)
                if not self.store.save_job_leased(job.record(), self.name):
                    log.warning("job %s: taken over by another worker; stopping", job.id)
                    return False
            if lost.is_set():
                log.warning("job %s: lease lost; leaving it to its new holder", job.id)
                return False
            # the outcome entry first, then the job's done state: a crash in between leaves the
            # job open, and whoever completes it finds the entry (written once, see _audit);
            # the other order would lose the entry to a crash after the save
            job.done = True
            self._audit(job)
            ok = self.store.save_job_leased(job.record(), self.name)
            if ok:
                self.completed.append(job.id)
                self._cleanup(job, originals)
            return ok
        finally:
            done.set()
            keeper.join(5)

    def _ingest(self, job: Any, f: Any, originals: Any, attempts: int) -> None:
        from dasan.ingest.pipeline import ingest_any, merge_results

        if f.sha256 is None or originals.path(f.sha256) is None:
            f.status, f.code, f.error = "failed", "original_missing", "원본 파일이 없어 다시 수집할 수 없습니다. 다시 올리세요."
            return
        if attempts > MAX_ATTEMPTS:
            f.status, f.code, f.error = "failed", "retry_exhausted", (
                f"수집이 {MAX_ATTEMPTS}번 중단되어 이 파일을 건너뛰었습니다. 파일을 확인하고 다시 올리세요.")
            return
        try:
            res = merge_results(ingest_any(self.store, originals.link(f.sha256, f.name), job.collection, job.level))
        except Exception as e:
            log.exception("ingesting %s failed", f.name)
            f.status, f.code, f.error = "failed", "internal_error", f"수집 중 오류: {type(e).__name__}"
            return
        f.status, f.document_id = res.status, res.document_id
        f.chunks = res.chunks if res.status != "failed" else None
        if res.status == "failed":
            f.error, f.code = res.error, "unreadable_file"

    def _cleanup(self, job: Any, originals: Any) -> None:
        """Keep an original only where a stored document may show it (as the server does): a
        failed file's, or one only in ``mask_ingest`` collections, is removed — unless a file of
        another open job (any process's) still needs the same bytes."""
        try:
            shas = {f.sha256 for f in job.files if f.sha256} - self.store.open_originals()
            originals.keep_or_discard(self.store, shas)
        except Exception:  # the job is done; a leftover original is reported, not fatal
            log.exception("job %s: originals could not be cleaned up", job.id)

    def _audit(self, job: Any) -> None:
        """The job's outcome entry, written once per job: a job completed again (its holder
        crashed after writing the entry, before saving the job) finds it and writes no other."""
        from datetime import UTC, datetime

        from dasan.store.postgres.audit import open_audit

        documents = [{"id": f.document_id, "status": f.status} for f in job.files if f.document_id]
        failed = sum(1 for f in job.files if f.status == "failed")
        try:
            with open_audit(self.data_dir) as audit:
                if job.trail_saved:  # the upload's own outcome entry, written by whoever completes the job
                    job.finish_trail(audit, documents=documents, failed=failed, worker=self.name)
                else:  # no trail: keyed by the job (looked up from a day before it was created: clocks differ)
                    since = datetime.fromtimestamp(job.created - 86400, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                    audit.append_once("job.done", self.name, job.id,
                                      {"owner": job.owner, "collection": job.collection, "documents": documents,
                                       "failed": failed}, key={"job": job.id}, since_ts=since)
        except Exception:  # the job is done; the missing entry is reported, not hidden
            log.exception("job %s: the audit entry could not be written", job.id)


def serve_forever(worker: Worker) -> None:  # pragma: no cover - the command's loop
    import signal

    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    log.info("worker %s polling the queue", worker.name)
    started = time.time()
    n = worker.run()
    log.info("worker %s stopped after %d job(s) in %.0f s", worker.name, n, time.time() - started)
