"""SIGTERM on a deploy or scale-down: in-flight requests and the current job finish, nothing is lost."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import redis

from tests.conftest import GITHUB_FIXTURES, github_signature
from tests.faults.conftest import delivery_id
from tests.faults.target import Target
from tests.integration.conftest import SECRET, Stack, wait_until


def test_a_worker_finishes_its_current_job_on_sigterm(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    fault_target.hang_seconds = 2
    (rules_dir / "rules.yaml").write_text(
        f"name: slow\non: push\ndo:\n  - http: {{url: '{fault_target.base}/hang'}}\n    timeout: 10\n"
    )
    web = stack.start_web()
    worker = stack.start_worker()
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    delivery = delivery_id()
    sent = send_in_two_parts(stack.url, body, delivery, between=lambda: None)
    assert sent.startswith(b"HTTP/1.1 202"), sent
    assert wait_until(lambda: len(fault_target.calls_to("/hang")) == 1)
    worker.popen.send_signal(signal.SIGTERM)  # mid-call: the target answers in 2 s
    assert worker.popen.wait(timeout=30) == 0, worker.output()
    (record,) = real_redis.hgetall(f"hookchain:actions:{delivery}").values()
    assert orjson.loads(record)["status"] == "succeeded"
    assert len(fault_target.calls_to("/hang")) == 1
    assert web.popen.poll() is None


def send_in_two_parts(url: str, body: bytes, delivery: str, between) -> bytes:
    parts = urlsplit(url)
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(SECRET, body),
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(f"POST /hooks/github HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body[:100])
        between()
        sock.sendall(body[100:])
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        return answer


def test_the_receiver_finishes_an_in_flight_request_on_sigterm(stack: Stack, real_redis: redis.Redis):
    web = stack.start_web()
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    delivery = delivery_id()

    def terminate_while_the_body_is_half_sent() -> None:
        web.popen.send_signal(signal.SIGTERM)
        assert not wait_until(lambda: web.popen.poll() is not None, timeout=1)  # still serving us

    answer = send_in_two_parts(stack.url, body, delivery, terminate_while_the_body_is_half_sent)
    assert answer.startswith(b"HTTP/1.1 202"), answer
    assert web.popen.wait(timeout=30) in (0, -signal.SIGTERM), web.output()  # uvicorn re-raises it
    assert real_redis.exists(f"hookchain:event:{delivery}")
