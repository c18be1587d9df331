"""Redis Sentinel: real `redis-server` master, replica and `--sentinel` processes on free loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from pytest_httpserver import HTTPServer

from router.connection import sync_client
from router.errors import ConfigError
from router.settings import Settings
from tests.integration.conftest import Stack, free_port, wait_until
from tests.integration.test_chain import post_github

SERVICE = "hookchain-main"
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


@dataclass
class SentinelSetup:
    master_port: int
    replica_port: int
    sentinel_port: int
    processes: list[subprocess.Popen[bytes]]

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port)

    def master_port_now(self) -> int:
        _, port = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        return int(port)


def fail_over(setup: SentinelSetup) -> None:
    """Ask the sentinel to promote the replica (as it would if the master died) and wait for it."""

    def promoted() -> bool:
        try:
            setup.sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)
        except redis.ResponseError:  # NOGOODSLAVE until the sentinel has seen the replica in sync
            return False
        return True

    assert wait_until(promoted, timeout=60, interval=0.5)
    assert wait_until(lambda: setup.master_port_now() == setup.replica_port, timeout=30)
    # The old master is demoted too (a dead one would simply be gone): no write can land on it.
    old = redis.Redis(port=setup.master_port)
    assert wait_until(lambda: old.info("replication")["role"] == "slave", timeout=30)


def start_server(tmp: Path, *args: str) -> subprocess.Popen[bytes]:
    assert REDIS_SERVER is not None
    return subprocess.Popen(
        [REDIS_SERVER, *args], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[SentinelSetup]:
    master, replica, sentinel = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    processes = [
        start_server(tmp_path, "--port", str(master), *common),
        start_server(tmp_path, "--port", str(replica), *common, "--replicaof", "127.0.0.1", str(master)),
    ]
    config = tmp_path / "sentinel.conf"  # sentinel rewrites its config: it must be its own file
    config.write_text(
        f"port {sentinel}\nbind 127.0.0.1\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {master} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 1000\n"
        f"sentinel failover-timeout {SERVICE} 10000\n"
    )
    processes.append(start_server(tmp_path, str(config), "--sentinel"))
    setup = SentinelSetup(master, replica, sentinel, processes)
    try:
        assert wait_until(lambda: all(answers(port) for port in (master, replica, sentinel)))
        yield setup
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def test_sentinel_settings_build_a_url_and_bad_ones_are_refused():
    settings = Settings.load(
        environ={
            "HOOKCHAIN_REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379",
            "HOOKCHAIN_REDIS_SENTINEL_SERVICE": "mymaster",
        }
    )
    assert settings.redis_url == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster"
    with pytest.raises(ConfigError, match="both"):
        Settings.load(environ={"HOOKCHAIN_REDIS_SENTINELS": "10.0.0.1:26379"})
    with pytest.raises(ConfigError, match="not both"):
        Settings.load(
            environ={
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "HOOKCHAIN_REDIS_SENTINELS": "10.0.0.1:26379",
                "HOOKCHAIN_REDIS_SENTINEL_SERVICE": "mymaster",
            }
        )
    with pytest.raises(ConfigError, match="service name"):
        Settings.load(environ={"REDIS_URL": "redis+sentinel://10.0.0.1:26379"})


def test_client_finds_the_master_through_the_sentinel_and_follows_a_failover(sentinel_setup: SentinelSetup):
    client = sync_client(sentinel_setup.url)
    client.set("hookchain:test", "before")
    assert redis.Redis(port=sentinel_setup.master_port).get("hookchain:test") == b"before"

    assert wait_until(lambda: bool(sentinel_setup.sentinel().sentinel_slaves(SERVICE)), timeout=30)
    assert wait_until(
        lambda: redis.Redis(port=sentinel_setup.replica_port).get("hookchain:test") == b"before"
    )
    fail_over(sentinel_setup)  # retries while the sentinel still answers NOGOODSLAVE

    def writes_reach_the_new_master() -> bool:
        try:
            client.set("hookchain:test", "after")
        except redis.RedisError:
            return False  # the connection to the old master is dropped; the next one asks the sentinel
        return redis.Redis(port=sentinel_setup.replica_port).get("hookchain:test") == b"after"

    assert wait_until(writes_reach_the_new_master, timeout=30)


def test_web_and_worker_run_chains_through_sentinel_and_across_a_failover(
    sentinel_setup: SentinelSetup, stack: Stack, rules_dir: Path, target: HTTPServer
):
    (rules_dir / "rule.yaml").write_text(
        "rules:\n"
        "  - name: ping-api\n"
        "    on: pr.opened\n"
        "    do:\n"
        f"      - http: {{url: '{target.url_for('/api')}', json: {{repo: '{{{{ event.repo }}}}'}}}}\n"
    )
    target.expect_request("/api", method="POST").respond_with_json({"ok": True})
    stack.env["REDIS_URL"] = sentinel_setup.url
    stack.start_web()
    stack.start_worker()
    from tests.conftest import GITHUB_FIXTURES

    body = (GITHUB_FIXTURES / "pull_request.opened.1.json").read_bytes()
    delivery = f"sentinel-{uuid.uuid4().hex}"
    assert post_github(stack.url, body, "pull_request", delivery).status_code == 202
    assert wait_until(lambda: len(target.log) == 1, timeout=30), stack.processes[-1].output()
    master = redis.Redis(port=sentinel_setup.master_port)
    assert master.exists(f"hookchain:event:{delivery}")  # written to the master the sentinel named

    fail_over(sentinel_setup)

    after = f"sentinel-after-{uuid.uuid4().hex}"

    def accepted() -> bool:  # 503 while the receiver finds the new master; the provider would resend
        return post_github(stack.url, body, "pull_request", after).status_code in (200, 202)

    assert wait_until(accepted, timeout=30)
    assert wait_until(lambda: len(target.log) == 2, timeout=60), stack.processes[-1].output()
    assert redis.Redis(port=sentinel_setup.replica_port).exists(f"hookchain:event:{after}")
