"""Compare the versions installed in a venv with the lock file (used by `make test-latest`).

Usage::

    python scripts/lock_drift.py --lock requirements.txt --python .venv-latest/bin/python

Prints one line per package whose installed version differs from the lock (newer, older,
not locked, not installed) and a summary line; always exits 0 (the test run decides).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line.strip())
        if m:
            pins[canonical(m.group(1))] = m.group(2)
    return pins


def installed(python: str) -> dict[str, str]:
    out = subprocess.run([python, "-m", "pip", "list", "--format", "json", "--exclude-editable"],
                         check=True, capture_output=True, text=True).stdout
    return {canonical(p["name"]): p["version"] for p in json.loads(out)}


def _key(version: str) -> tuple[object, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.+-]", version))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lock", type=Path, default=Path("requirements.txt"))
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)
    lock, have = locked(args.lock), installed(args.python)
    rows = []
    for name in sorted(set(lock) | set(have)):
        a, b = lock.get(name), have.get(name)
        if a == b or (name in {"pip", "setuptools", "wheel"} and a is None):
            continue
        if a is None:
            rows.append(f"  + {name} {b} (not in the lock)")
        elif b is None:
            rows.append(f"  - {name} {a} (locked, not installed now)")
        else:
            try:
                arrow = "newer" if _key(b) > _key(a) else "older"
            except TypeError:
                arrow = "differs"
            rows.append(f"  ~ {name} {a} -> {b} ({arrow})")
    print(f"lock drift against {args.lock}: {len(rows)} package(s) differ")
    print("\n".join(rows) if rows else "  (none: the lock is current)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
