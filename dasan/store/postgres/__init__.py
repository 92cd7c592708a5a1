"""PostgreSQL backend of the store (``DASAN_DATABASE_URL=postgresql://…``): store contract,
principals directory, durable job queue, row-level security, search in the database."""

from __future__ import annotations

from dasan.store.postgres.db import SYSTEM, AccessScope, is_postgres_url, redact
from dasan.store.postgres.store import PostgresStore

__all__ = ["SYSTEM", "AccessScope", "PostgresStore", "is_postgres_url", "redact"]
