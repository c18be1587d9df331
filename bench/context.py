"""What every scenario is given: run size, where Redis and the fixtures are, shared helpers."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.procs import REPO

SECRET = "bench-secret"


@dataclass
class Context:
    quick: bool
    redis_url: str
    shared: Path
    seconds: float
    """Length of one load-generator run (wrk, the end-to-end sender)."""

    @property
    def fixtures(self) -> Path:
        return self.shared / "fixtures" / "github"

    def pull_request_bodies(self) -> list[bytes]:
        files = sorted(self.fixtures.glob("pull_request.*.json"))
        if not files:
            raise FileNotFoundError(f"no pull_request fixtures under {self.fixtures}: pass --shared")
        return [path.read_bytes() for path in files]

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def flush(self) -> None:
        """Empty the benchmark's Redis database between runs (never anyone else's)."""
        client = self.redis()
        client.flushdb()
        client.close()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def run_id() -> str:
    return uuid.uuid4().hex[:10]


def default_shared() -> Path:
    return Path(os.environ.get("HOOKCHAIN_SHARED", REPO.parent / "shared"))
