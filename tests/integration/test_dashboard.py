"""The dashboard in headless Chromium (Debian's package, driven by Playwright), on a real stack:
signed webhook → web → Redis → worker → loopback target, then what a person sees and clicks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pytest_httpserver import HTTPServer

from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import calls_to, merged_pr_body, post_github
from tests.integration.test_observability import FLAKY_RULE, RULES

CHROMIUM = os.environ.get("HOOKCHAIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "dashboard-token"
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/apt-packages)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the tests' screenshots go: HOOKCHAIN_SCREENSHOTS to keep them, else the test's tmp folder."""
    folder = Path(os.environ.get("HOOKCHAIN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Browser, screenshots: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    opened.screenshot(path=str(screenshots / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], errors


@pytest.fixture
def dashboard(stack: Stack, rules_dir: Path, target: HTTPServer) -> Stack:
    stack.env["HOOKCHAIN_ADMIN_TOKEN"] = TOKEN
    stack.env["CHANGELOG_TOKEN"] = "s3cr3t-token"
    (rules_dir / "chain.yaml").write_text(RULES.format(base=target.url_for("").rstrip("/")))
    target.expect_request("/changelog").respond_with_json({"entry": "CL-7"}, status=201)
    target.expect_request("/chat").respond_with_json({"ok": True})
    return stack


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/ui")
    page.get_by_test_id("token").fill(TOKEN)
    page.get_by_test_id("sign-in").click()


def test_the_chain_of_a_real_webhook_is_drawn_and_replay_makes_a_new_one(
    dashboard: Stack, target: HTTPServer, page: Page, screenshots: Path
):
    dashboard.start_web()
    dashboard.start_worker()
    webhook_id = post_github(dashboard.url, merged_pr_body(), "pull_request").json()["id"]
    assert wait_until(lambda: len(calls_to(target, "/chat")) == 1), [p.output() for p in dashboard.processes]

    page.goto(f"{dashboard.url}/ui")
    expect(page.locator("#login")).to_be_visible()  # no token yet: the dashboard asks for one
    page.get_by_test_id("token").fill("wrong")
    page.get_by_test_id("sign-in").click()
    expect(page.locator("#login-error")).to_contain_text("wrong admin token")
    page.get_by_test_id("token").fill(TOKEN)
    page.get_by_test_id("sign-in").click()

    page.locator(f"[data-testid=event-row][data-id='{webhook_id}']").click()
    tree = page.get_by_test_id("chain-tree")
    root = tree.locator(f"[data-testid=event-node][data-id='{webhook_id}']")
    expect(root).to_have_attribute("data-status", "succeeded")
    expect(root.get_by_test_id("rule-unmatched")).to_contain_text("never-on-dev: match: branch is 'master'")
    first_call = tree.locator("[data-testid=action-node][data-rule=record-merged-pr]")
    expect(first_call).to_have_attribute("data-status", "succeeded")
    expect(first_call).to_contain_text("→ HTTP 201")
    second_call = tree.locator("[data-testid=action-node][data-rule=announce-entry]")
    expect(second_call).to_contain_text("→ HTTP 200")
    expect(tree.locator("[data-testid=event-node][data-type='changelog.recorded']")).to_have_count(1)
    expect(page.get_by_test_id("health")).to_contain_text("workers 1")

    # An action's request and response.
    first_call.get_by_test_id("open-call").click()
    dialog = page.get_by_test_id("call-dialog")
    expect(dialog.get_by_test_id("call-request")).to_contain_text("/changelog")
    expect(dialog.get_by_test_id("call-request")).to_contain_text("Authorization: ***")
    expect(dialog.get_by_test_id("call-request")).to_contain_text('"repo": "Codertocat/Hello-World"')
    expect(dialog.get_by_test_id("call-response")).to_contain_text('"entry": "CL-7"')
    page.screenshot(path=str(screenshots / "dashboard-call.png"))
    dialog.get_by_role("button", name="close").click()

    # Replay: a new event on the same chain, run by the worker again, drawn as it happens.
    root.get_by_test_id("replay").first.click()
    page.wait_for_url(lambda url: "#/events/" in url and webhook_id not in url)
    replay_id = page.url.rsplit("/", 1)[-1]
    replayed = tree.locator(f"[data-testid=event-node][data-id='{replay_id}']")
    expect(replayed).to_have_attribute("data-status", "succeeded")
    expect(replayed).to_contain_text("replay")
    expect(page.locator(f"[data-testid=event-row][data-id='{replay_id}']")).to_contain_text("replay")
    assert len(calls_to(target, "/changelog")) == 2
    assert len(calls_to(target, "/chat")) == 2


def test_a_failure_is_listed_and_retried_from_the_dashboard(
    dashboard: Stack, rules_dir: Path, target: HTTPServer, page: Page, screenshots: Path
):
    (rules_dir / "deploy.yaml").write_text(FLAKY_RULE.format(base=target.url_for("").rstrip("/")))
    target.expect_oneshot_request("/deploy").respond_with_data("busy", status=503)
    target.expect_oneshot_request("/deploy").respond_with_data("busy", status=503)
    target.expect_request("/deploy").respond_with_json({"deployment": 7})
    dashboard.start_web()
    dashboard.start_worker()
    webhook_id = post_github(dashboard.url, merged_pr_body(), "pull_request").json()["id"]

    sign_in(page, dashboard.url)
    page.goto(f"{dashboard.url}/ui/#/events/{webhook_id}")
    failed = page.locator("[data-testid=action-node][data-rule=deploy]")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("HTTP 503")
    expect(failed).to_contain_text("2 attempts")
    expect(failed.get_by_test_id("retry")).to_be_visible()
    page.screenshot(path=str(screenshots / "dashboard-failed.png"))

    page.get_by_test_id("tab-failures").click()
    row = page.get_by_test_id("failure-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("deploy / go")
    page.screenshot(path=str(screenshots / "dashboard-failures.png"))
    row.get_by_test_id("retry").click()
    expect(row).to_have_count(0)

    page.goto(f"{dashboard.url}/ui/#/events/{webhook_id}")
    expect(failed).to_have_attribute("data-status", "succeeded")
    expect(failed).to_contain_text("3 attempts")

    page.get_by_test_id("tab-rules").click()
    deploy = page.locator("[data-testid=rule-row][data-rule=deploy]")
    expect(deploy).to_contain_text("pr.merged")
    expect(deploy).not_to_contain_text("never")
