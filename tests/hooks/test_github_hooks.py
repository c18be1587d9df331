"""`hookchain hooks` against a local GitHub REST API: repository and organisation webhooks."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.hooks.conftest import GITHUB_TOKEN, PUBLIC_URL, SECRET
from tests.hooks.fake_providers import FakeProviders

Run = Callable[..., Result]
HOOK_URL = f"{PUBLIC_URL}/hooks/github"
DERIVED = ["check_suite", "pull_request", "status", "workflow_run"]


def register(
    hookchain: Run, fake: FakeProviders, *extra: str, env: dict[str, str | None] | None = None
) -> Result:
    return hookchain(
        "hooks", "register", "github", *extra, "--url", PUBLIC_URL, "--api-url", fake.url, env=env
    )


def seed_hook(fake: FakeProviders, url: str, events: list[str], repo: str = "acme/api") -> int:
    hook_id = next(fake.state.ids)
    fake.state.github_repos[repo][hook_id] = {
        "id": hook_id,
        "config": {"url": url, "content_type": "form", "secret": "old", "insecure_ssl": "1"},
        "events": events,
        "active": False,
    }
    return hook_id


def test_register_creates_the_hook_with_the_secret_json_and_the_rules_events(
    hookchain: Run, fake: FakeProviders
) -> None:
    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.github_repos["acme/api"].values()
    assert hook["config"] == {
        "url": HOOK_URL,
        "content_type": "json",
        "secret": SECRET,
        "insecure_ssl": "0",
    }
    assert hook["events"] == DERIVED
    assert hook["active"] is True
    (_, path, headers, body) = fake.state.calls.log[-1]
    assert path == "/api/v3/repos/acme/api/hooks"
    assert headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert body["name"] == "web"
    assert f"created: hook {hook['id']} on the repository acme/api" in result.stdout
    assert SECRET not in result.output


def test_register_twice_leaves_one_hook_updated_in_place(hookchain: Run, fake: FakeProviders) -> None:
    first = register(hookchain, fake, "acme/api")
    second = register(hookchain, fake, "acme/api")

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert len(fake.state.github_repos["acme/api"]) == 1
    assert fake.state.calls.count("POST", "/hooks") == 1
    assert fake.state.calls.count("PATCH", "/hooks/") == 1
    assert "updated in place" in second.stdout


def test_an_existing_hook_at_the_url_is_updated_in_place_with_new_events_and_secret(
    hookchain: Run, fake: FakeProviders
) -> None:
    other = seed_hook(fake, "https://elsewhere.example.com/hook", ["push"])
    ours = seed_hook(fake, HOOK_URL + "/", ["push", "issues"])  # a trailing slash is the same URL

    result = register(hookchain, fake, "acme/api", "--events", "release,push")

    assert result.exit_code == 0, result.output
    hooks = fake.state.github_repos["acme/api"]
    assert sorted(hooks) == [other, ours]
    assert hooks[ours]["events"] == ["push", "release"]
    assert hooks[ours]["config"]["secret"] == SECRET
    assert hooks[ours]["config"]["content_type"] == "json"
    assert hooks[ours]["active"] is True
    assert hooks[other]["events"] == ["push"]
    patch = next(call for call in fake.state.calls.log if call[0] == "PATCH")
    assert patch[1] == f"/api/v3/repos/acme/api/hooks/{ours}"
    assert "name" not in patch[3]  # a repository hook's PATCH takes no name


def test_the_hook_is_found_on_a_later_page_of_the_list(hookchain: Run, fake: FakeProviders) -> None:
    for index in range(130):
        seed_hook(fake, f"https://other-{index}.example.com/hook", ["push"])
    ours = seed_hook(fake, HOOK_URL, ["push"])

    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    assert len(fake.state.github_repos["acme/api"]) == 131
    assert fake.state.github_repos["acme/api"][ours]["events"] == DERIVED
    gets = [path for method, path, _, _ in fake.state.calls.log if method == "GET"]
    # The second page is GitHub's Link rel="next", which names the repository by id.
    assert gets == [
        "/api/v3/repos/acme/api/hooks?per_page=100",
        "/api/v3/repositories/1296269/hooks?per_page=100&page=2",
    ]
    assert all(h["authorization"] == f"Bearer {GITHUB_TOKEN}" for _, _, h, _ in fake.state.calls.log)


def test_organisation_hooks(hookchain: Run, fake: FakeProviders) -> None:
    first = register(hookchain, fake, "--org", "acme")
    second = register(hookchain, fake, "--org", "acme", "--events", "push")

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    (hook,) = fake.state.github_orgs["acme"].values()
    assert hook["events"] == ["push"]
    assert "organisation acme" in first.stdout
    listed = hookchain("hooks", "list", "github", "--org", "acme", "--api-url", fake.url)
    assert f"{hook['id']}  active  {HOOK_URL}  events: push" in listed.stdout


def test_the_events_are_derived_from_the_rules_and_explained(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/api")

    assert "events: check_suite, pull_request, status, workflow_run" in result.stderr
    assert "ci.passed -> check_suite, status, workflow_run" in result.stderr
    assert "deploy.requested -> (made by hookchain: no subscription)" in result.stderr


def test_a_glob_for_everything_subscribes_to_githubs_wildcard(
    hookchain: Run, fake: FakeProviders, tmp_path: Any
) -> None:
    folder = tmp_path / "all"
    folder.mkdir()
    (folder / "audit.yaml").write_text(
        "name: audit\non: '*'\ndo: [{http: {url: 'https://audit.example.com'}}]\n"
    )

    result = register(hookchain, fake, "acme/api", "--rules", str(folder))

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.github_repos["acme/api"].values()
    assert hook["events"] == ["*"]


def test_rules_that_need_no_github_event_are_a_clear_error(
    hookchain: Run, fake: FakeProviders, tmp_path: Any
) -> None:
    folder = tmp_path / "internal"
    folder.mkdir()
    (folder / "r.yaml").write_text(
        "name: r\non: action.failed\ndo: [{http: {url: 'https://x.example.com'}}]\n"
    )

    result = register(hookchain, fake, "acme/api", "--rules", str(folder))

    assert result.exit_code == 2
    assert "react to no github event" in result.output and "action.failed" in result.output
    assert fake.state.calls.log == []


def test_github_enterprise_server_through_api_url(hookchain: Run, fake: FakeProviders) -> None:
    # Given only the host, the API root is https://HOST/api/v3, as on GitHub Enterprise Server.
    result = hookchain("hooks", "register", "github", "acme/api", "--url", PUBLIC_URL, "--api-url", fake.url)
    assert result.exit_code == 0, result.output
    assert fake.state.calls.log[0][1] == "/api/v3/repos/acme/api/hooks?per_page=100"
    assert len(fake.state.github_repos["acme/api"]) == 1


def test_list_delete_and_ping(hookchain: Run, fake: FakeProviders) -> None:
    register(hookchain, fake, "acme/api")
    (hook_id,) = fake.state.github_repos["acme/api"]

    listed = hookchain("hooks", "list", "github", "acme/api", "--api-url", fake.url)
    pinged = hookchain("hooks", "ping", "github", "acme/api", "--url", PUBLIC_URL, "--api-url", fake.url)
    deleted = hookchain("hooks", "delete", "github", "acme/api", "--id", str(hook_id), "--api-url", fake.url)

    assert f"{hook_id}  active  {HOOK_URL}  events: {','.join(DERIVED)}" in listed.stdout
    assert pinged.exit_code == 0 and fake.state.pings == [hook_id]
    assert deleted.exit_code == 0 and fake.state.github_repos["acme/api"] == {}
    assert f"deleted: hook {hook_id}" in deleted.stdout


def test_dry_run_prints_the_calls_with_the_secret_masked_and_sends_nothing(
    hookchain: Run, fake: FakeProviders
) -> None:
    result = register(hookchain, fake, "acme/api", "--dry-run")

    assert result.exit_code == 0, result.output
    assert fake.state.calls.log == []
    assert f"would send: GET {fake.url}/api/v3/repos/acme/api/hooks?per_page=100" in result.stdout
    assert f"would send: POST {fake.url}/api/v3/repos/acme/api/hooks" in result.stdout
    assert '"secret": "********"' in result.stdout
    assert '"events": ["check_suite", "pull_request", "status", "workflow_run"]' in result.stdout
    assert SECRET not in result.output


def test_a_bad_token_is_a_clear_401(hookchain: Run, fake: FakeProviders) -> None:
    result = hookchain(
        "hooks", "list", "github", "acme/api", "--api-url", fake.url, env={"GITHUB_TOKEN": "wrong"}
    )
    assert result.exit_code == 1
    assert "refused the token (401 Bad credentials); check GITHUB_TOKEN" in result.stderr


def test_a_missing_scope_is_a_403_naming_the_scope(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.github_tokens["ghp_read_only"] = {"read:org"}

    result = register(hookchain, fake, "acme/api", "--token", "ghp_read_only")

    assert result.exit_code == 1
    assert "forbidden (403" in result.stderr
    assert "needs scope(s): admin:repo_hook, read:repo_hook, repo, write:repo_hook" in result.stderr
    assert "token has: read:org" in result.stderr


def test_an_unknown_repository_is_a_clear_404(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/nope")
    assert result.exit_code == 1
    assert "not found (404 Not Found)" in result.stderr
    assert "listing the repository acme/nope's hooks" in result.stderr


def test_a_primary_rate_limit_is_waited_out_and_retried(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.rate_limited = ["github-403", "github-429"]

    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    assert "rate limit reached (403): waiting" in result.stderr
    assert "rate limit reached (429): waiting 1 s before retry 2/3" in result.stderr
    assert len(fake.state.github_repos["acme/api"]) == 1


def test_a_rate_limit_longer_than_max_wait_gives_up_at_once(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.rate_limited = ["github-far"]

    result = register(hookchain, fake, "acme/api", "--max-wait", "60")

    assert result.exit_code == 1
    assert "more than --max-wait 60 s; run again later" in result.stderr
    assert fake.state.github_repos["acme/api"] == {}


def test_an_unreachable_api_is_a_clear_error(hookchain: Run) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        result = hookchain(
            "hooks", "list", "github", "acme/api", "--api-url", f"http://127.0.0.1:{port}/api/v3"
        )
    assert result.exit_code == 1
    assert f"cannot reach the github API at http://127.0.0.1:{port}/api/v3" in result.stderr


def test_a_missing_token_or_secret_is_a_usage_error(hookchain: Run, fake: FakeProviders) -> None:
    no_token = register(hookchain, fake, "acme/api", env={"GITHUB_TOKEN": None})
    no_secret = register(hookchain, fake, "acme/api", env={"HOOKCHAIN_GITHUB_SECRET": None})

    assert no_token.exit_code == 2 and "set GITHUB_TOKEN or GH_TOKEN" in no_token.output
    assert no_secret.exit_code == 2 and "set HOOKCHAIN_GITHUB_SECRET" in no_secret.output
    assert fake.state.calls.log == []


def test_a_malformed_repository_is_a_usage_error(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme")
    assert result.exit_code == 2 and "OWNER/REPO" in result.output


def test_a_rate_limit_that_does_not_lift_stops_after_three_waits(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.rate_limited = ["github-429"] * 4

    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 1
    assert result.stderr.count("rate limit reached (429)") == 3
    assert "still rate limited after 3 waits; try later" in result.stderr
    assert fake.state.calls.count("GET") == 4 and fake.state.calls.count("POST") == 0


def test_githubs_validation_failure_is_shown_in_its_own_words(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/api", "--events", "ci.passed")

    assert result.exit_code == 1
    assert (
        "creating a hook on the repository acme/api: github API answered 422: "
        'Validation Failed; "ci.passed" is not a valid event name'
    ) in result.stderr
    assert fake.state.github_repos["acme/api"] == {}


def test_hooks_that_already_duplicate_the_url_are_reported_not_multiplied(
    hookchain: Run, fake: FakeProviders
) -> None:
    first = seed_hook(fake, HOOK_URL, ["push"])
    second = seed_hook(fake, HOOK_URL, ["push"])  # made by hand before hookchain managed it

    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    hooks = fake.state.github_repos["acme/api"]
    assert sorted(hooks) == [first, second]
    assert hooks[first]["events"] == DERIVED and hooks[second]["events"] == ["push"]
    assert f"warning: hook {second} also points at {HOOK_URL}" in result.stderr


def test_disabled_rules_do_not_widen_the_subscription(
    hookchain: Run, fake: FakeProviders, tmp_path: Any
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "on.yaml").write_text("name: pushes\non: push\ndo: [{http: {url: 'https://a.example.com'}}]\n")
    (folder / "off.yaml").write_text(
        "name: everything\non: '*'\nenabled: false\ndo: [{http: {url: 'https://b.example.com'}}]\n"
    )

    result = register(hookchain, fake, "acme/api", "--rules", str(folder))

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.github_repos["acme/api"].values()
    assert hook["events"] == ["push"]


def test_a_named_source_gives_its_current_secret_and_its_own_url(
    hookchain: Run, fake: FakeProviders, tmp_path: Path
) -> None:
    config = tmp_path / "hookchain.yaml"
    config.write_text(
        "sources:\n"
        "  - name: github-acme\n"
        "    provider: github\n"
        '    secrets: ["${NEW_SECRET}", "${OLD_SECRET}"]\n'
    )
    env = {
        "NEW_SECRET": "new-secret-value",
        "OLD_SECRET": "old-secret-value",
        "HOOKCHAIN_CONFIG": str(config),
    }
    result = register(hookchain, fake, "acme/api", "--source", "github-acme", env=env)

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.github_repos["acme/api"].values()
    assert hook["config"]["secret"] == "new-secret-value"
    assert hook["config"]["url"].endswith("/hooks/github-acme")
    wrong = register(hookchain, fake, "acme/api", "--source", "nope", env=env)
    assert wrong.exit_code == 2 and "source 'nope' has no secret" in wrong.output
