"""Smoke check after `make install`: the installed llama.cpp runs on this CPU.

llama-cpp-python is built from source on the machine that installs it; a build whose
instructions this CPU cannot execute (an -march=native build made for another CPU, or one
that uses AMX/AVX-512 where the hypervisor does not allow them) dies with SIGILL on the
first decode, which would otherwise surface as a crashed test run. This loads the bundled
Gemma GGUF and generates two tokens in a child process, so the caller sees an exit status.

Usage: .venv/bin/python scripts/check_llama.py   (exit 0: fine; 1: the build does not run here)
"""

from __future__ import annotations

import subprocess
import sys

CHILD = """
from dasan.llm.base import GenerationParams
from dasan.llm.llamacpp import LlamaCppBackend
b = LlamaCppBackend(n_ctx=128, n_threads=1)
print(repr(b.chat([{"role": "user", "content": "안녕하세요"}], GenerationParams(max_tokens=2))))
"""


def main() -> int:
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300)
    if proc.returncode == 0:
        print("llama.cpp: OK (bundled model generated on this CPU)")
        return 0
    why = "illegal instruction (SIGILL)" if proc.returncode in (-4, 132) else f"exit status {proc.returncode}"
    print(f"llama.cpp: the installed build does not run on this CPU: {why}", file=sys.stderr)
    print(proc.stderr[-2000:], file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
