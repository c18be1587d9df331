"""Processes a benchmark starts: loopback servers, hookchain commands, a private Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"


class BenchError(RuntimeError):
    """A benchmark could not run (a tool is missing, a server did not start)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchError(f"`{name}` is not installed: apt-get install -y {package}")
    return path


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for child processes: this checkout first on the path, no stray hookchain settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKCHAIN_") and k != "REDIS_URL"}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Processes:
    """Everything one scenario started; stopped in reverse order, even on failure."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hookchain-bench-")))
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}-{len(self.started)}.log"
        with log.open("wb") as handle:
            popen = subprocess.Popen(
                list(argv), env=env or python_env(), stdout=handle, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def start_python(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        return self.start(name, [sys.executable, *args], env)

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def wait_http(proc: Proc, url: str, timeout: float = 30.0) -> None:
    def up() -> bool:
        if not proc.alive():
            return True
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.HTTPError:
            return False

    if not wait_until(up, timeout) or not proc.alive():
        raise BenchError(f"{proc.name} did not start:\n{proc.output()[-3000:]}")


def wait_port(proc: Proc, port: int, timeout: float = 30.0) -> None:
    def listening() -> bool:
        if not proc.alive():
            return True
        with socket.socket() as sock:
            return sock.connect_ex((LOOPBACK, port)) == 0

    if not wait_until(listening, timeout) or not proc.alive():
        raise BenchError(f"{proc.name} did not start:\n{proc.output()[-3000:]}")


def start_redis(procs: Processes) -> str:
    """A private redis-server on a free loopback port (no persistence): nobody else's load."""
    binary = require_tool("redis-server", "redis-server")
    port = free_port()
    proc = procs.start(
        "redis",
        [binary, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"],
        env=dict(os.environ),
    )
    wait_port(proc, port)
    return f"redis://{LOOPBACK}:{port}/0"


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
        pending.extend(children_of(current))
    return total
