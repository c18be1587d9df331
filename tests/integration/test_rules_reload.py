"""A running worker picks up edited rule files without a restart; a broken edit keeps the last good rules."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.integration.conftest import Stack, wait_until
from tests.integration.test_flow_control import push

RULE = """
name: forward
on: push
do:
  - http: {url: BASE/PATH}
"""


def calls(target: HTTPServer, path: str) -> int:
    return sum(1 for request, _ in target.log if request.path == path)


def test_worker_reloads_edited_rules_and_keeps_the_last_good_ones(
    stack: Stack, rules_dir: Path, target: HTTPServer
):
    base = target.url_for("").rstrip("/")
    rule_file = rules_dir / "forward.yaml"
    rule_file.write_text(RULE.replace("BASE", base).replace("PATH", "first"))
    target.expect_request("/first").respond_with_data("ok")
    target.expect_request("/second").respond_with_data("ok")
    stack.start_web()
    worker = stack.start_worker()

    push(stack)
    assert wait_until(lambda: calls(target, "/first") == 1), worker.output()

    rule_file.write_text(RULE.replace("BASE", base).replace("PATH", "second"))
    assert wait_until(lambda: "rules reloaded" in worker.output()), worker.output()
    push(stack)
    assert wait_until(lambda: calls(target, "/second") == 1), worker.output()

    rule_file.write_text(RULE.replace("BASE", base).replace("PATH", "second").replace("do:", "doo:"))
    assert wait_until(lambda: "the last good rules keep serving" in worker.output()), worker.output()
    assert "unknown field 'doo' (did you mean 'do'?)" in worker.output()
    push(stack)
    assert wait_until(lambda: calls(target, "/second") == 2), worker.output()
    assert calls(target, "/first") == 1
    assert worker.popen.poll() is None
