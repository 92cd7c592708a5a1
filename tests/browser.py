"""The harness the real-browser tests share: a real `dasan serve` on a free port over a temporary
home, a Node script (tests/e2e/*.mjs) driving Debian's Chromium through playwright-core, and the
script's one-line JSON result. Missing node/Chromium/playwright-core: skip locally, FAIL under CI
(`make e2e-deps` installs them)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "e2e"
ARTIFACTS = E2E / "artifacts"
CHROMIUM = os.environ.get("DASAN_CHROMIUM", "/usr/bin/chromium")
LAUNCHER = """
import sys
from pathlib import Path
import uvicorn
from dasan.server.app import create_app
uvicorn.run(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def need(cond: bool, msg: str) -> None:
    if cond:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{msg} (run `make e2e-deps`)")
    pytest.skip(msg)


def node() -> str:
    """The node binary, after checking that Chromium and playwright-core are there too."""
    path = shutil.which("node")
    need(path is not None, "node is not installed")
    need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    need((E2E / "node_modules" / "playwright-core" / "package.json").exists(),
         "playwright-core is not installed in tests/e2e/node_modules")
    assert path is not None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def home_env(tmp_path: Path, **extra: str) -> tuple[Path, dict[str, str]]:
    """A fresh ``DASAN_HOME`` under ``tmp_path`` and the environment for CLI and server."""
    home = tmp_path / "home"
    env = {**os.environ, "DASAN_HOME": str(home), "PYTHONUNBUFFERED": "1", **extra}
    env.pop("DASAN_USER", None)
    return home, env


def cli(env: dict[str, str], *args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "dasan.cli", *args], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert res.returncode == 0, f"dasan {' '.join(args)} failed: {res.stderr[-2000:]}"
    return res.stdout


def _has_serve(env: dict[str, str]) -> bool:
    res = subprocess.run([sys.executable, "-m", "dasan.cli", "--help"], env=env, capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    return any(line.strip().startswith("serve") for line in res.stdout.splitlines())


def wait_ready(url: str, proc: subprocess.Popen[bytes], path: str = "/readyz", timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("server did not become ready in time")


@dataclass
class Server:
    url: str
    log: Path

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


@contextlib.contextmanager
def server(home: Path, env: dict[str, str], tmp_path: Path, ready: str = "/readyz") -> Iterator[Server]:
    """`dasan serve` on a free port (the app launched directly where the CLI has no serve)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if _has_serve(env):
        cmd = [sys.executable, "-m", "dasan.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [sys.executable, "-c", LAUNCHER, str(home), str(port)]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(url, proc, ready)
            yield Server(url, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def artifacts(name: str) -> Path:
    """A fresh screenshot folder for one browser test (tests/e2e/artifacts/NAME)."""
    out = ARTIFACTS / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    return out


def run_script(script: str, cfg: dict[str, Any], tmp_path: Path, srv: Server, timeout: float = 600) -> dict[str, Any]:
    """Run tests/e2e/SCRIPT with ``cfg`` (JSON) and return its result line; the assertion
    message carries the script's stderr and the server log when there is none."""
    cfg_path = tmp_path / f"{Path(script).stem}.json"
    cfg_path.write_text(json.dumps({"chromium": CHROMIUM, **cfg}, ensure_ascii=False), encoding="utf-8")
    res = subprocess.run([node(), str(E2E / script), str(cfg_path)], cwd=E2E, capture_output=True, text=True,
                         timeout=timeout)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from {script}: {res.stderr[-3000:]}\nserver log:\n{srv.log_tail()}"
    out = json.loads(lines[-1])
    out["returncode"] = res.returncode
    out["stderr"] = res.stderr[-2000:]
    return out
