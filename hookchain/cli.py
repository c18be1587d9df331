"""The `hookchain` command."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import click

from router.errors import ConfigError
from router.settings import Settings
from workers.rules import RuleFileError, RuleSet, load_rules

SAMPLES = Path(__file__).parent / "samples"
WEB_KEEP_ALIVE = 5
WEB_MAX_CONNECTIONS = 1000
WEB_GRACEFUL_SHUTDOWN = 30


def _settings(**flags: Any) -> Settings:
    try:
        return Settings.load(flags)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def _load_rules_or_exit(path: Path) -> RuleSet:
    try:
        return RuleSet(load_rules(path))
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(exc.errors)} problem(s) in the rules: fix them and start again", err=True)
        sys.exit(2)


rules_option = click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder (or file) of reaction rules. [env HOOKCHAIN_RULES; default rules/]",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hookchain")
def main() -> None:
    """hookchain: verified webhooks in, reaction rules, chained API calls out."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@rules_option
def dev(host: str, port: int, rules_dir: Path | None) -> None:
    """Receiver and worker in one process; embedded Redis unless REDIS_URL is set."""
    from hookchain import logs
    from hookchain.devserver import serve

    settings = _settings(rules_dir=rules_dir)
    logs.configure(settings.log_level)
    serve(settings, _load_rules_or_exit(settings.rules_dir), host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Receiver processes sharing the port.",
)
def web(host: str, port: int, processes: int) -> None:
    """The receiver (production): needs REDIS_URL."""
    import uvicorn

    from hookchain import logs

    settings = _settings()
    if settings.redis_url is None:
        raise click.UsageError("REDIS_URL is not set: `hookchain web` needs Redis (or use `hookchain dev`)")
    logs.configure(settings.log_level)
    click.echo(f"hookchain web: listening on http://{host}:{port} ({processes} process(es))")
    uvicorn.run(
        "hookchain.cli:web_app",
        factory=True,
        host=host,
        port=port,
        workers=processes,
        log_level="warning",
        proxy_headers=True,
        # Hostile-input limits: idle keep-alive connections closed after 5 s, at most 1000
        # connections at once (503 past that), and on SIGTERM in-flight requests get 30 s to finish.
        timeout_keep_alive=WEB_KEEP_ALIVE,
        limit_concurrency=WEB_MAX_CONNECTIONS,
        timeout_graceful_shutdown=WEB_GRACEFUL_SHUTDOWN,
    )


def web_app() -> Any:
    """The receiver app built from the environment (uvicorn's factory for `hookchain web`)."""
    from hookchain import logs
    from router.app import create_app

    settings = Settings.load()
    logs.configure(settings.log_level)
    return create_app(settings)


@main.command()
@rules_option
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: generated).")
def worker(rules_dir: Path | None, burst: bool, name: str | None) -> None:
    """A worker (production): matches events, fires actions. Needs REDIS_URL. Run as many as you like."""
    from hookchain import logs
    from router import durability
    from router.connection import redacted, sync_client
    from workers import runtime
    from workers.worker import run_worker

    settings = _settings(rules_dir=rules_dir)
    if settings.redis_url is None:
        raise click.UsageError(
            "REDIS_URL is not set: `hookchain worker` needs Redis (or use `hookchain dev`)"
        )
    logs.configure(settings.log_level)
    rules = _load_rules_or_exit(settings.rules_dir)
    connection = sync_client(settings.redis_url)
    runtime.install(runtime.WorkerContext.build(settings, redis=connection, rules=rules))
    if settings.recover_repos and settings.recover_every > 0:
        from workers.redelivery import PeriodicRecovery

        PeriodicRecovery(settings, connection, rules).start()

    def ready() -> None:
        durability.warn(durability.check_sync(connection))
        click.echo(
            f"hookchain worker: {len(rules)} rules from {settings.rules_dir}, "
            f"Redis {redacted(settings.redis_url)}"
        )

    run_worker(
        connection,
        burst=burst,
        name=name,
        on_ready=ready,
        job_lease=settings.job_lease,
        maintenance_interval=settings.maintenance_interval,
    )


def _redis_or_exit(settings: Settings) -> Any:
    from router.connection import sync_client

    if settings.redis_url is None:
        raise click.UsageError("REDIS_URL is not set: this command reads hookchain's Redis")
    return sync_client(settings.redis_url)


@main.group()
def failed() -> None:
    """Dead letters: actions whose attempts ran out. List, show, retry or discard them."""


@failed.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def failed_list(limit: int, as_json: bool) -> None:
    """The newest dead letters first."""
    from workers.deadletters import list_dead

    records = list_dead(_redis_or_exit(_settings()), limit)
    for record in records:
        if as_json:
            click.echo(json.dumps(record, sort_keys=True))
        else:
            click.echo(
                f"{record.get('id', '-')[:12]}  {record['time']}  {record['rule']}/{record['action']}  "
                f"event {record['event_id']}  {record['error']}"
            )
    if not as_json:
        click.echo(f"{len(records)} dead letter(s)")


@failed.command("show")
@click.argument("dead_id")
def failed_show(dead_id: str) -> None:
    """One dead letter with its attempts and its event (DEAD_ID: its id or a unique prefix)."""
    from workers.deadletters import DeadLetterNotFound, show_dead

    try:
        click.echo(json.dumps(show_dead(_redis_or_exit(_settings()), dead_id), indent=2, sort_keys=True))
    except DeadLetterNotFound as exc:
        raise click.ClickException(str(exc)) from None


@failed.command("retry")
@click.argument("dead_id")
def failed_retry(dead_id: str) -> None:
    """Queue the action again (same Idempotency-Key); the dead letter is removed."""
    from workers.deadletters import DeadLetterNotFound, retry_dead

    try:
        job_id = retry_dead(_redis_or_exit(_settings()), dead_id)
    except DeadLetterNotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"queued again as job {job_id}")


@failed.command("discard")
@click.argument("dead_id")
def failed_discard(dead_id: str) -> None:
    """Forget a dead letter."""
    from workers.deadletters import DeadLetterNotFound, discard_dead

    try:
        record = discard_dead(_redis_or_exit(_settings()), dead_id)
    except DeadLetterNotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"discarded {record['id']} ({record['rule']}/{record['action']} for {record['event_id']})")


@main.command()
@click.argument("event_id")
def replay(event_id: str) -> None:
    """Run the rules again on a stored event, as a new event in the original chain."""
    from workers.deadletters import replay as replay_event

    settings = _settings()
    try:
        copy = replay_event(_redis_or_exit(settings), settings, event_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"replayed {event_id} as {copy.id} (chain {copy.correlation_id}, caused by {event_id})")


@main.command()
@click.option("--since", "span", default="2h", show_default=True, help="How far back to look: 30m, 2h, 1d.")
@click.option(
    "--repo", "repos", multiple=True, required=True, help="owner/name whose hooks to look at (repeat)."
)
@click.option(
    "--hook-url",
    default=None,
    help="Only hooks whose URL starts with this (default: every hook whose URL has a /hooks/ path).",
)
@click.option("--api-url", envvar="GITHUB_API_URL", default="https://api.github.com", show_default=True)
@click.option("--token", envvar="GITHUB_TOKEN", required=True, help="GitHub token. [env GITHUB_TOKEN]")
@click.option("--dry-run", is_flag=True, help="Say what would be redelivered; ask for nothing.")
@rules_option
def recover(
    span: str,
    repos: tuple[str, ...],
    hook_url: str | None,
    api_url: str,
    token: str,
    dry_run: bool,
    rules_dir: Path | None,
) -> None:
    """Ask GitHub to redeliver recent webhooks hookchain never accepted (safe to run any number of times)."""
    from workers.redelivery import GitHubHooks, RecoverError, parse_span, since_now
    from workers.redelivery import recover as run_recovery

    settings = _settings(rules_dir=rules_dir)
    ruleset = _load_rules_or_exit(settings.rules_dir)
    api = GitHubHooks(token, api_url)
    try:
        found = run_recovery(
            api,
            _redis_or_exit(settings),
            ruleset,
            list(repos),
            since_now(parse_span(span)),
            hook_url=hook_url,
            dry_run=dry_run,
        )
    except (RecoverError, httpx_error()) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        api.close()
    for guid in found.redelivered:
        click.echo(f"{'would redeliver' if dry_run else 'redelivery requested'}: {guid}")
    for guid in found.refused:
        click.echo(f"GitHub refused to redeliver {guid}", err=True)
    click.echo(found.summary())
    if found.refused:
        sys.exit(1)


def httpx_error() -> type[Exception]:
    import httpx

    return httpx.HTTPError


@main.group()
def rules() -> None:
    """Work with reaction rule files."""


@rules.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def rules_check(path: Path | None) -> None:
    """Validate every rule file under PATH (default: the rules folder); exit 1 on any problem."""
    target = path or _settings().rules_dir
    try:
        found = load_rules(target)
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error))
        click.echo(f"{len(exc.errors)} problem(s)")
        sys.exit(1)
    click.echo(f"ok: {len(found)} rule(s) in {target}")


@main.command()
@click.argument("provider", type=click.Choice(["github"]))
@click.option(
    "--event", "event_name", default="pull_request", show_default=True, help="X-GitHub-Event of the delivery."
)
@click.option(
    "--file",
    "payload_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Payload to send (default: a sample merged pull request).",
)
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="Where hookchain listens.")
@click.option(
    "--secret",
    envvar="HOOKCHAIN_GITHUB_SECRET",
    default="dev-secret",
    help="Signing secret. [env HOOKCHAIN_GITHUB_SECRET; default: dev's]",
)
@click.option("--delivery", default=None, help="X-GitHub-Delivery (default: a new one; reuse to redeliver).")
def send(
    provider: str, event_name: str, payload_file: Path | None, url: str, secret: str, delivery: str | None
) -> None:
    """Send a signed webhook, as the provider would: for trying rules by hand."""
    import httpx

    body = (payload_file or SAMPLES / "github-pull_request-merged.json").read_bytes()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event_name,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "User-Agent": "hookchain-send",
    }
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/hooks/{provider}", content=body, headers=headers, timeout=10
        )
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {url}: {exc}") from None
    click.echo(f"{response.status_code} {json.dumps(response.json()) if response.content else ''}")
    if response.status_code >= 400:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
