"""One `on: ci.passed` rule, four CIs: GitHub Actions, GitLab CI, CircleCI and Buildkite, on real parts."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import orjson
from pytest_httpserver import HTTPServer

from tests.conftest import GITHUB_FIXTURES, github_signature
from tests.integration.conftest import SECRET, Stack, wait_until
from tests.router.providers.conftest import hex_hmac, sample

RULE = """
name: deploy-on-green
on: ci.passed
match: {{branch: [main, master]}}
do:
  - http:
      url: "{url}"
      json:
        source: "{{{{ event.source }}}}"
        provider_type: "{{{{ event.provider_type }}}}"
        repo: "{{{{ event.repo }}}}"
        branch: "{{{{ event.branch }}}}"
        sha: "{{{{ event.sha }}}}"
"""

CONFIG = """
sources:
  - {name: gitlab-ci, provider: gitlab, secrets: ["${GITLAB_TOKEN}"]}
  - {name: circle, provider: circleci, secrets: ["${CIRCLE_SECRET}", "${CIRCLE_SECRET_OLD}"]}
  - {name: buildkite, provider: buildkite, secrets: ["${BUILDKITE_TOKEN}"]}
"""


def post(stack: Stack, source: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    headers = {"Content-Type": "application/json", **headers}
    return httpx.post(f"{stack.url}/hooks/{source}", content=body, headers=headers, timeout=10)


def test_a_passing_build_from_each_ci_drives_the_same_rule(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis
):
    (rules_dir / "deploy.yaml").write_text(RULE.format(url=target.url_for("/deploy")))
    (stack.tmp / "hookchain.yaml").write_text(CONFIG)  # found in the working directory
    stack.env.update(
        GITLAB_TOKEN="gl-token",
        CIRCLE_SECRET="circle-new",
        CIRCLE_SECRET_OLD="circle-old",
        BUILDKITE_TOKEN="bk-token",
    )
    target.expect_request("/deploy", method="POST").respond_with_json({"ok": True})
    stack.start_web()
    stack.start_worker()

    github = (GITHUB_FIXTURES / "workflow_run.completed.3.json").read_bytes()
    gitlab = sample("gitlab/pipeline.success.json")
    gitlab_failed = json.dumps(
        {
            **json.loads(gitlab),
            "object_attributes": {**json.loads(gitlab)["object_attributes"], "status": "failed"},
        }
    ).encode()
    circle = sample("circleci/workflow-completed.oauth.json")
    buildkite = sample("buildkite/build.finished.json")
    timestamp = str(int(time.time()))
    buildkite_signature = hex_hmac("bk-token", f"{timestamp}.".encode() + buildkite)
    answers = [
        post(
            stack,
            "github",
            github,
            {
                "X-GitHub-Event": "workflow_run",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": github_signature(SECRET, github),
            },
        ),
        post(stack, "gitlab-ci", gitlab, {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": "gl-token"}),
        post(
            stack,
            "gitlab-ci",
            gitlab_failed,
            {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": "gl-token", "Idempotency-Key": "failed-1"},
        ),
        # Signed with the source's previous secret: accepted while it is being rotated.
        post(stack, "circle", circle, {"circleci-signature": "v1=" + hex_hmac("circle-old", circle)}),
        post(
            stack,
            "buildkite",
            buildkite,
            {
                "X-Buildkite-Event": "build.finished",
                "X-Buildkite-Request": str(uuid.uuid4()),
                "X-Buildkite-Signature": f"timestamp={timestamp},signature={buildkite_signature}",
            },
        ),
    ]
    assert [answer.status_code for answer in answers] == [202] * 5, [a.text for a in answers]

    def calls() -> list[dict]:
        return [orjson.loads(request.get_data()) for request, _ in target.log if request.path == "/deploy"]

    assert wait_until(lambda: len(calls()) == 4), [p.output() for p in stack.processes]
    assert sorted(calls(), key=lambda call: call["source"]) == [
        {
            "source": "buildkite",
            "provider_type": "buildkite.build.finished",
            "repo": "acme-inc/api",
            "branch": "main",
            "sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        },
        {
            "source": "circle",
            "provider_type": "circleci.workflow-completed",
            "repo": "circleci/webhook-service",
            "branch": "main",
            "sha": "1dc6aa69429bff4806ad6afe58d3d8f57e25973e",
        },
        {
            "source": "github",
            "provider_type": "github.workflow_run.completed",
            "repo": "octo-org/octo-repo",
            "branch": "master",
            "sha": "3484a3fb816e0859fd6e1cea078d76385ff50625",
        },
        {
            "source": "gitlab-ci",
            "provider_type": "gitlab.pipeline",
            "repo": "gitlab-org/gitlab-test",
            "branch": "main",
            "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
        },
    ]
    # The failed pipeline was recorded as ci.failed and fired nothing.
    failed = orjson.loads(real_redis.get(f"hookchain:event:{answers[2].json()['id']}"))
    assert failed["type"] == "ci.failed"
    # Every accepted event went through the worker: 5 webhooks + 4 action outcomes recorded.
    assert wait_until(lambda: real_redis.zcard("hookchain:log") == 9)
