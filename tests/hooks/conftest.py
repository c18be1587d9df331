"""The fake provider APIs on loopback, and running `hookchain hooks ...` against them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hookchain.cli import main
from tests.hooks.fake_providers import FakeProviders

GITHUB_TOKEN = "ghp_test_token"
GITLAB_TOKEN = "glpat-test-token"
CIRCLECI_TOKEN = "circle-test-token"
BUILDKITE_TOKEN = "bkua_test_token"
SECRET = "hook-secret-value"
PUBLIC_URL = "https://hookchain.example.com"


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    server = FakeProviders().start()
    state = server.state
    state.github_tokens[GITHUB_TOKEN] = {"admin:repo_hook", "admin:org_hook"}
    state.github_repos["acme/api"] = {}
    state.repo_ids["acme/api"] = 1296269
    state.github_orgs["acme"] = {}
    state.gitlab_tokens[GITLAB_TOKEN] = {"api"}
    state.gitlab_projects["acme/api"] = {}
    state.gitlab_groups["acme"] = {}
    state.circleci_tokens.add(CIRCLECI_TOKEN)
    state.circleci_projects["gh/acme/api"] = "7a1b2c3d-0000-4000-8000-000000000001"
    state.buildkite_tokens.add(BUILDKITE_TOKEN)
    yield server
    server.stop()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "deploy.yaml").write_text(
        "name: deploy\non: ci.passed\n"
        "do:\n  - http: {url: 'https://deploy.example.com'}\n    emit: deploy.requested\n"
    )
    (folder / "chain.yaml").write_text(
        "rules:\n"
        "  - name: on-merge\n    on: [pr.merged]\n    do: [{http: {url: 'https://x.example.com'}}]\n"
        "  - name: next-hop\n    on: deploy.requested\n    do: [{http: {url: 'https://y.example.com'}}]\n"
    )
    return folder


@pytest.fixture
def hookchain(rules: Path) -> Iterator[Callable[..., Result]]:
    """Run `hookchain ARGS` in-process with a clean environment: tokens, secrets and rules set."""
    runner = CliRunner()
    cleared = {key: None for key in os.environ if key.startswith(("HOOKCHAIN_", "GITHUB_", "GITLAB_", "GH_"))}

    def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
        full_env: dict[str, str | None] = {
            **cleared,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITLAB_TOKEN": GITLAB_TOKEN,
            "CIRCLECI_TOKEN": CIRCLECI_TOKEN,
            "BUILDKITE_API_TOKEN": BUILDKITE_TOKEN,
            "HOOKCHAIN_GITHUB_SECRET": SECRET,
            "HOOKCHAIN_GITLAB_SECRET": SECRET,
            "HOOKCHAIN_CIRCLECI_SECRET": SECRET,
            "HOOKCHAIN_BUILDKITE_SECRET": SECRET,
            "HOOKCHAIN_RULES": str(rules),
            **(env or {}),
        }
        return runner.invoke(main, list(args), env=full_env, catch_exceptions=False)

    yield run
