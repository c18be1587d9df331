"""`hookchain hooks` for CI providers: CircleCI webhooks (register, list) and Buildkite (list)."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from tests.hooks.conftest import CIRCLECI_TOKEN, PUBLIC_URL, SECRET
from tests.hooks.fake_providers import FakeProviders

Run = Callable[..., Result]
PROJECT_ID = "7a1b2c3d-0000-4000-8000-000000000001"


def test_circleci_register_is_idempotent_and_signs_with_the_secret(
    hookchain: Run, fake: FakeProviders
) -> None:
    args = ("hooks", "register", "circleci", "gh/acme/api", "--url", PUBLIC_URL, "--api-url", fake.url)
    first = hookchain(*args)
    second = hookchain(*args)

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    (hook,) = fake.state.circleci_hooks.values()
    assert hook["url"] == f"{PUBLIC_URL}/hooks/circleci"
    assert hook["events"] == ["workflow-completed"]  # the rules' ci.passed
    assert hook["signing-secret"] == SECRET and hook["verify-tls"] is True
    assert hook["scope"] == {"id": PROJECT_ID, "type": "project"}
    assert fake.state.calls.count("POST", "/webhook") == 1 and fake.state.calls.count("PUT", "/webhook/") == 1
    assert all(headers["circle-token"] == CIRCLECI_TOKEN for _, _, headers, _ in fake.state.calls.log)
    assert "updated in place" in second.stdout

    listed = hookchain("hooks", "list", "circleci", "gh/acme/api", "--api-url", fake.url)
    assert f"{hook['id']}  active  {PUBLIC_URL}/hooks/circleci  events: workflow-completed" in listed.stdout
    assert f"/api/v2/webhook?scope-id={PROJECT_ID}&scope-type=project" in fake.state.calls.log[-1][1]


def test_circleci_unknown_project_and_no_ping(hookchain: Run, fake: FakeProviders) -> None:
    unknown = hookchain("hooks", "list", "circleci", "gh/acme/nope", "--api-url", fake.url)
    ping = hookchain("hooks", "ping", "circleci", "gh/acme/api", "--id", "x", "--api-url", fake.url)

    assert unknown.exit_code == 1 and "not found (404 Project not found)" in unknown.stderr
    assert ping.exit_code == 1 and "CircleCI's API has no test delivery" in ping.stderr


def test_buildkite_lists_notification_services_and_explains_register(
    hookchain: Run, fake: FakeProviders
) -> None:
    fake.state.buildkite_services["acme"] = [
        {
            "id": "0190-aaaa",
            "provider": {"id": "webhook", "name": "Webhook"},
            "description": "hookchain",
            "enabled": True,
            "settings": {"url": f"{PUBLIC_URL}/hooks/buildkite"},
            "build_states": {"build.finished": True, "build.started": False},
        }
    ]

    listed = hookchain("hooks", "list", "buildkite", "--org", "acme", "--api-url", f"{fake.url}/v2")
    register = hookchain(
        "hooks", "register", "buildkite", "--org", "acme", "--url", PUBLIC_URL, "--api-url", f"{fake.url}/v2",
    )  # fmt: skip

    assert listed.exit_code == 0, listed.output
    assert (
        f"0190-aaaa  active  {PUBLIC_URL}/hooks/buildkite  events: build.finished  last: Webhook"
        in listed.stdout
    )
    assert register.exit_code == 1
    assert "hookchain does not create Buildkite notification services" in register.stderr
    assert fake.state.calls.count("POST") == 0
