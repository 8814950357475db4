"""Real servers for tests: started on a free port of 127.0.0.1, waited for, and always stopped."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(command: list[str], ready_url: str, *, timeout: float = 120, env: dict[str, str] | None = None,
            cwd: Path | None = None, log: Path | None = None) -> Iterator[None]:
    """Run `command` until the block ends; enter once `ready_url` answers (fail if it never does, with the end of
    its output when `log` keeps it)."""
    out = log.open("w") if log else subprocess.DEVNULL
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2).close()  # noqa: S310 (loopback)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(encoding="utf-8")[-2000:] if log else ""
                    raise RuntimeError(f"{command[0]} did not start: {ready_url} never answered\n{tail}") from None
                time.sleep(0.3)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()  # type: ignore[union-attr]
