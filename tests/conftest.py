"""Shared test set-up: where the provider fixtures are, signing, and the real Redis."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from tests.agent_server import agent_server  # noqa: F401 - a fixture for every test module

if TYPE_CHECKING:
    from tests.faults.target import Target

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HOOKCHAIN_SHARED", REPO.parent / "shared"))
GITHUB_FIXTURES = SHARED / "fixtures" / "github"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_DB = int(os.environ.get("HOOKCHAIN_TEST_REDIS_DB", "13"))


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_fixture_files() -> list[Path]:
    files = sorted(GITHUB_FIXTURES.glob("*.json"))
    if not files:
        raise RuntimeError(f"no GitHub fixtures under {GITHUB_FIXTURES}: set HOOKCHAIN_SHARED")
    return files


def event_name_of(fixture: Path) -> str:
    """`pull_request.closed.2.json` was delivered with X-GitHub-Event: pull_request."""
    return fixture.name.split(".", 1)[0]


def test_redis_url() -> str:
    """The real Redis, on a database of the tests' own."""
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/{TEST_DB}"


test_redis_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def real_redis() -> Iterator[redis.Redis]:
    """A clean database on the real Redis; it must be reachable (CI starts it)."""
    client = redis.Redis.from_url(test_redis_url())
    client.ping()
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def fault_target() -> Iterator[Target]:
    """A real HTTP target on loopback that answers by path: ok, slow, fail, flaky, busy, hang, reset."""
    from tests.faults.target import Target

    target = Target().start()
    yield target
    target.stop()
