"""Small SQLite helpers shared by the store and the audit log."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry_locked(step: Callable[[], T], seconds: float = 30.0) -> T:
    """Run ``step``, again after a short pause while SQLite says the file is locked.

    Some steps do not wait on ``busy_timeout``: switching a new file to WAL while another
    process or thread creates it too reports "database is locked" at once.
    """
    deadline = time.monotonic() + seconds
    pause = 0.01
    while True:
        try:
            return step()
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
