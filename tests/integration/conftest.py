"""Real processes for integration tests: `hookchain web`, `hookchain worker`, `hookchain dev`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import REPO, test_redis_url

SECRET = "integration-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll until `check()` holds; a deadline for correctness, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Stack:
    """A hookchain deployment for one test: its env, its processes, its receiver URL."""

    env: dict[str, str]
    tmp: Path
    processes: list[Process]
    url: str = ""

    def start(self, *args: str, name: str) -> Process:
        log = self.tmp / f"{name}.log"
        handle = log.open("w")
        popen = subprocess.Popen(
            [sys.executable, "-m", "hookchain", *args],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.tmp,
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_web(self) -> Process:
        port = free_port()
        process = self.start("web", "--port", str(port), name="web")
        self.url = f"http://127.0.0.1:{port}"
        self._wait_healthy(process)
        return process

    def start_dev(self) -> Process:
        port = free_port()
        process = self.start("dev", "--port", str(port), name="dev")
        self.url = f"http://127.0.0.1:{port}"
        self._wait_healthy(process)
        return process

    def start_worker(self, name: str = "worker") -> Process:
        process = self.start("worker", "--name", f"{name}-{os.getpid()}-{len(self.processes)}", name=name)
        ready = wait_until(
            lambda: "hookchain worker:" in process.output() or process.popen.poll() is not None
        )
        assert ready and process.popen.poll() is None, process.output()
        return process

    def _wait_healthy(self, process: Process) -> None:
        def healthy() -> bool:
            if process.popen.poll() is not None:
                return True
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(healthy), process.output()
        assert process.popen.poll() is None, process.output()


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    return folder


@pytest.fixture
def stack(tmp_path: Path, rules_dir: Path, real_redis: object) -> Iterator[Stack]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HOOKCHAIN_") and key not in ("REDIS_URL",)
    }
    env.update(
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        REDIS_URL=test_redis_url(),
        HOOKCHAIN_GITHUB_SECRET=SECRET,
        HOOKCHAIN_RULES=str(rules_dir),
        HOOKCHAIN_ALLOWED_TARGETS="127.0.0.1",
    )
    deployment = Stack(env=env, tmp=tmp_path, processes=[])
    yield deployment
    for process in reversed(deployment.processes):
        process.stop()


@pytest.fixture
def target(httpserver: HTTPServer) -> HTTPServer:
    """A real HTTP server on loopback that records every call it gets."""
    return httpserver
