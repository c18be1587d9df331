"""The commands a user runs: `dev` on the embedded Redis, `rules check`, and refusals with clear errors."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from pytest_httpserver import HTTPServer

from tests.conftest import REPO
from tests.integration.conftest import Stack, free_port, wait_until
from tests.integration.test_chain import calls_to, merged_pr_body, post_github, write_two_hop_rules


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookchain", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_runs_the_chain_on_the_embedded_redis(stack: Stack, rules_dir: Path, target: HTTPServer):
    write_two_hop_rules(rules_dir, target)
    target.expect_request("/changelog").respond_with_json({"entry": "CL-1"})
    target.expect_request("/chat").respond_with_json({"ok": True})
    stack.env.pop("REDIS_URL")
    stack.env["CHANGELOG_TOKEN"] = "t"
    dev = stack.start_dev()
    assert "embedded Redis" in dev.output()
    answer = post_github(stack.url, merged_pr_body(), "pull_request")
    assert answer.status_code == 202
    assert wait_until(lambda: len(calls_to(target, "/chat")) == 1), dev.output()
    assert calls_to(target, "/chat")[0]["text"] == "Codertocat/Hello-World#2 recorded as CL-1"


def test_bad_cli_argument_is_a_usage_error(stack: Stack):
    result = run_cli("dev", "--port", "0", env=stack.env, cwd=stack.tmp)
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr


def test_tutorial_send_command_fires_the_shipped_example_rules(stack: Stack, rules_dir: Path):
    """The README tutorial as a newcomer runs it: `hookchain dev`, then `hookchain send github`.

    The shipped rules call dev's inbox on port 8000; here they are copied with a free port instead.
    """
    for name in ("REDIS_URL", "HOOKCHAIN_GITHUB_SECRET", "HOOKCHAIN_ALLOWED_TARGETS"):
        stack.env.pop(name)
    port = free_port()
    for rule in (REPO / "rules").glob("*.yaml"):
        (rules_dir / rule.name).write_text(rule.read_text().replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
    dev = stack.start("dev", "--port", str(port), name="dev-tutorial")
    assert wait_until(lambda: "dev uses 'dev-secret'" in dev.output() or dev.popen.poll() is not None), (
        dev.output()
    )
    assert wait_until(lambda: "Uvicorn running" in dev.output() or _up(port)), dev.output()
    sent = run_cli("send", "github", "--url", f"http://127.0.0.1:{port}", env=stack.env, cwd=stack.tmp)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("202 ")
    assert wait_until(lambda: "→ call arrived at /dev/inbox/chat" in dev.output()), dev.output()
    assert "→ call arrived at /dev/inbox/changelog" in dev.output()


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_rules_check(stack: Stack, rules_dir: Path):
    good = run_cli("rules", "check", str(REPO / "rules"), env=stack.env, cwd=stack.tmp)
    assert good.returncode == 0 and good.stdout.startswith("ok: ")
    (rules_dir / "broken.yaml").write_text(
        "name: x\non: push\nmtach: {}\ndo: [{http: {url: 'https://x.example'}}]\n"
    )
    bad = run_cli("rules", "check", env=stack.env, cwd=stack.tmp)
    assert bad.returncode == 1
    assert f"{rules_dir / 'broken.yaml'}:3:1: unknown field 'mtach' (did you mean 'match'?)" in bad.stdout


def test_worker_refuses_to_start_on_broken_rules_without_a_traceback(stack: Stack, rules_dir: Path):
    (rules_dir / "broken.yaml").write_text("name: x\non: [push\n")
    worker = run_cli("worker", env=stack.env, cwd=stack.tmp)
    assert worker.returncode == 2
    assert "broken.yaml:3:1: YAML:" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_web_and_worker_need_redis_url(stack: Stack):
    stack.env.pop("REDIS_URL")
    for command in ("web", "worker"):
        result = run_cli(command, env=stack.env, cwd=stack.tmp)
        assert result.returncode == 2
        assert "REDIS_URL is not set" in result.stderr


def test_help_for_every_command(stack: Stack):
    for command in ([], ["dev"], ["web"], ["worker"], ["rules", "check"], ["send"], ["mcp"]):
        result = run_cli(*command, "--help", env=stack.env, cwd=stack.tmp)
        assert result.returncode == 0 and "Usage:" in result.stdout, command


def test_worker_and_web_stop_cleanly_on_sigterm(stack: Stack):
    web = stack.start_web()
    worker = stack.start_worker()
    worker.stop()
    assert worker.popen.returncode == 0, worker.output()
    web.stop()
    # Uvicorn shuts down gracefully, then re-raises the signal so the exit status names it.
    assert web.popen.returncode in (0, -signal.SIGTERM), web.output()
    for process in (worker, web):
        assert "Traceback" not in process.output()
