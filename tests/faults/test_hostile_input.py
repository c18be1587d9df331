"""Hostile input against the real receiver and worker: each refused with its documented answer."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import redis

from router.queue import EVENTS_QUEUE, queue_key
from tests.conftest import GITHUB_FIXTURES, github_signature
from tests.faults.conftest import Figures, delivery_id
from tests.faults.target import Target
from tests.integration.conftest import SECRET, Stack, wait_until
from workers.store import DEAD_LETTERS_KEY


def signed_headers(body: bytes, **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery_id(),
        "X-Hub-Signature-256": github_signature(SECRET, body),
        **extra,
    }


def slow_body_answer(url: str, wait: float) -> bytes:
    """Send the headers and a tenth of the body, then nothing: the receiver must give up first."""
    parts = urlsplit(url)
    body = b'{"a": 1}' + b" " * 92
    head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(body).items())
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        sock.sendall(f"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n{head}\r\n".encode())
        sock.sendall(body[:10])
        return sock.recv(4096)


def test_hostile_requests_are_refused_and_nothing_is_queued(stack: Stack, real_redis: redis.Redis):
    stack.env.update(HOOKCHAIN_MAX_BODY_BYTES=str(512 * 1024), HOOKCHAIN_BODY_TIMEOUT="1")
    stack.start_web()
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_object = b'{"a":' * 5_000 + b"1" + b"}" * 5_000
    cases = {
        "oversize": (b"x" * (512 * 1024 + 1), {}, 413),
        "deep nesting (arrays)": (deep, {}, 400),
        "deep nesting (objects)": (deep_object, {}, 400),
        "invalid UTF-8": (b'{"a": "\xff\xfe"}', {}, 400),
        "wrong content type": (b"<a/>", {"Content-Type": "application/xml"}, 415),
        "not JSON": (b"\x00\x01", {}, 400),
    }
    figures = Figures("hostile input")
    with httpx.Client(timeout=10) as client:
        for name, (body, extra, expected) in cases.items():
            answer = client.post(
                f"{stack.url}/hooks/github", content=body, headers=signed_headers(body, **extra)
            )
            figures.sent += 1
            assert answer.status_code == expected, (name, answer.status_code, answer.text)
            assert answer.json()["error"], name
            figures.refused += 1
        # A header block far past any sane size: refused by the HTTP layer, the server lives on.
        answer = client.post(
            f"{stack.url}/hooks/github",
            content=b"{}",
            headers={**signed_headers(b"{}"), "X-Big": "a" * 200_000},
        )
        figures.sent += 1
        assert answer.status_code == 431 and "headers" in answer.json()["error"]
        figures.refused += 1
    started = time.monotonic()
    reply = slow_body_answer(stack.url, wait=10)
    figures.sent += 1
    assert reply.startswith(b"HTTP/1.1 408"), reply
    assert time.monotonic() - started < 5
    figures.refused += 1
    figures.report()
    assert httpx.get(f"{stack.url}/health").status_code == 200
    assert real_redis.llen(queue_key(EVENTS_QUEUE)) == 0


INJECTION_RULES = """
name: echo-commit
on: push
do:
  - http:
      url: "{base}/ok"
      json:
        message: "{{{{ event.data.head_commit.message }}}}"
        branch: "{{{{ event.branch }}}}"
"""

INJECTIONS = [
    "{{ 7 * 7 }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for x in range(10**9) %}x{% endfor %}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ 'a' * 200000000 }}",
]


def test_template_injection_from_payload_fields_is_sent_as_plain_text(
    stack: Stack, rules_dir: Path, fault_target: Target
):
    (rules_dir / "rules.yaml").write_text(INJECTION_RULES.format(base=fault_target.base))
    stack.start_web()
    stack.start_worker()
    payload = json.loads((GITHUB_FIXTURES / "push.1.json").read_text())
    for text in INJECTIONS:
        payload["head_commit"]["message"] = text
        body = json.dumps(payload).encode()
        answer = httpx.post(f"{stack.url}/hooks/github", content=body, headers=signed_headers(body))
        assert answer.status_code == 202
    assert wait_until(lambda: len(fault_target.calls_to("/ok")) == len(INJECTIONS))
    assert sorted(c.body["message"] for c in fault_target.calls_to("/ok")) == sorted(INJECTIONS)


SSRF_RULES = """
rules:
  - name: call-loopback
    on: push
    do:
      - http:
          url: "{base}/ok"
  - name: call-from-payload
    on: push
    do:
      - http:
          url: "{{{{ event.data.repository.homepage }}}}"
"""


def test_a_loopback_target_not_allow_listed_is_never_called(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    """End to end: the guard refuses before any connection; the refusal is a dead letter, not a retry."""
    (rules_dir / "rules.yaml").write_text(SSRF_RULES.format(base=fault_target.base))
    stack.env["HOOKCHAIN_ALLOWED_TARGETS"] = "hooks.example.com"  # not loopback
    stack.start_web()
    stack.start_worker()
    payload = json.loads((GITHUB_FIXTURES / "push.1.json").read_text())
    payload["repository"]["homepage"] = "http://169.254.169.254/latest/meta-data/"
    body = json.dumps(payload).encode()
    assert (
        httpx.post(f"{stack.url}/hooks/github", content=body, headers=signed_headers(body)).status_code == 202
    )
    assert wait_until(lambda: real_redis.llen(DEAD_LETTERS_KEY) == 2), stack.processes[-1].output()
    dead = {d["rule"]: d for d in (orjson.loads(x) for x in real_redis.lrange(DEAD_LETTERS_KEY, 0, -1))}
    assert "internal address" in dead["call-loopback"]["error"]
    assert "169.254.169.254" in dead["call-from-payload"]["error"]
    time.sleep(0.5)
    assert fault_target.calls == []
