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

from hookchain import views
from hookchain.admin_client import DEV_ADMIN_TOKEN, AdminAPIError, AdminClient
from hookchain.hooks.commands import hooks
from router.errors import ConfigError
from router.settings import Settings
from workers.rules import RuleFileError, RuleSet, load_rules

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_CONCURRENCY = 32
"""Jobs in flight per worker process: enough that a slow API does not hold up every other event."""
WEB_KEEP_ALIVE = 5
WEB_MAX_CONNECTIONS = 1000
WEB_GRACEFUL_SHUTDOWN = 30


def _settings(**flags: Any) -> Settings:
    from router.metrics import check_multiprocess_dir

    try:
        check_multiprocess_dir()
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


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Config file declaring sources. [env HOOKCHAIN_CONFIG; default ./hookchain.yaml if it exists]",
)


def _check_sources(settings: Settings) -> None:
    """Build every source once so a bad provider option stops the start with a clear message."""
    from router.sources import build_sources

    try:
        build_sources(settings)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hookchain")
def main() -> None:
    """hookchain: verified webhooks in, reaction rules, chained API calls out."""


main.add_command(hooks)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@rules_option
@config_option
def dev(host: str, port: int, rules_dir: Path | None, config_file: Path | None) -> None:
    """Receiver and worker in one process; embedded Redis unless REDIS_URL is set."""
    from hookchain import logs
    from hookchain.devserver import serve

    settings = _settings(rules_dir=rules_dir, config_file=config_file)
    _check_sources(settings)
    logs.configure(settings.log_level, settings.log_format or "text")
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
@config_option
def web(host: str, port: int, processes: int, config_file: Path | None) -> None:
    """The receiver (production): needs REDIS_URL."""
    import uvicorn

    from hookchain import logs

    settings = _settings(config_file=config_file)
    _check_sources(settings)
    if config_file is not None:
        os.environ["HOOKCHAIN_CONFIG"] = str(config_file.resolve())  # for the app factory's processes
    if settings.redis_url is None:
        raise click.UsageError("REDIS_URL is not set: `hookchain web` needs Redis (or use `hookchain dev`)")
    logs.configure(settings.log_level, settings.log_format or "json")
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
    from agents.http import mount_mcp
    from hookchain import logs
    from router.app import create_app

    settings = Settings.load()
    logs.configure(settings.log_level, settings.log_format or "json")
    app = create_app(settings)
    mount_mcp(app, settings)
    return app


@main.command("mcp")
@rules_option
def mcp_command(rules_dir: Path | None) -> None:
    """hookchain as an MCP server over stdio, for an agent on this machine. Needs REDIS_URL.

    Tools: emit_event, get_chain, list_events, list_failures, retry_failed, replay_event, list_rules,
    test_rules; the rule files are resources. The web app serves the same at /mcp (admin token).
    """
    import anyio
    import redis.asyncio

    from agents.server import build_server
    from hookchain import logs
    from router.connection import async_client

    settings = _settings(rules_dir=rules_dir)
    if settings.redis_url is None:
        raise click.UsageError("REDIS_URL is not set: `hookchain mcp` reads and writes the chain in Redis")
    logs.configure(settings.log_level)  # stderr: stdout carries the protocol
    client: redis.asyncio.Redis = async_client(settings.redis_url, settings.redis_timeout)

    async def serve() -> None:
        try:
            await build_server(settings, lambda: client).run_stdio_async()
        finally:
            await client.aclose()

    anyio.run(serve)


@main.command()
@rules_option
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: generated; with --processes, a prefix).")
@click.option(
    "--concurrency",
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar="HOOKCHAIN_WORKER_CONCURRENCY",
    help="Jobs in flight per process (threads); 1 runs RQ's SimpleWorker. [env HOOKCHAIN_WORKER_CONCURRENCY]",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="HOOKCHAIN_WORKER_PROCESSES",
    help="Worker processes, supervised: a child that dies is restarted. [env HOOKCHAIN_WORKER_PROCESSES]",
)
@config_option
def worker(
    rules_dir: Path | None,
    burst: bool,
    name: str | None,
    concurrency: int,
    processes: int,
    config_file: Path | None,
) -> None:
    """A worker (production): matches events, fires actions. Needs REDIS_URL. Run as many as you like."""
    from hookchain import logs
    from router import durability
    from router.connection import redacted, sync_client
    from workers import runtime
    from workers.worker import run_worker

    settings = _settings(rules_dir=rules_dir, config_file=config_file)
    if settings.redis_url is None:
        raise click.UsageError(
            "REDIS_URL is not set: `hookchain worker` needs Redis (or use `hookchain dev`)"
        )
    logs.configure(settings.log_level, settings.log_format or "json")
    rules = _load_rules_or_exit(settings.rules_dir)
    where = (
        f"hookchain worker: {len(rules)} rules from {settings.rules_dir} (reloaded on change), "
        f"Redis {redacted(settings.redis_url)}, {processes} process(es) x {concurrency} job(s) in flight"
    )
    if processes > 1:
        from workers.pool import HookchainWorkerPool

        click.echo(where)
        pool = HookchainWorkerPool(
            settings, rules, processes=processes, concurrency=concurrency, name_prefix=name
        )
        pool.start(burst=burst, logging_level="WARNING")
        return
    connection = sync_client(settings.redis_url)
    context = runtime.WorkerContext.build(settings, redis=connection, rules=rules)
    context.watch_rules()
    runtime.install(context)
    if settings.recover_repos and settings.recover_every > 0:
        from workers.redelivery import PeriodicRecovery

        PeriodicRecovery(settings, connection, rules).start()

    def ready() -> None:
        durability.warn(durability.check_sync(connection))
        click.echo(where)

    run_worker(
        connection,
        burst=burst,
        name=name,
        concurrency=concurrency,
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
    """Validate every rule file under PATH (default: the rules folder); exit 1 on any problem.

    Every problem in every file is listed at once with file:line:column: unknown fields (with a
    suggestion), wrong values, template and expression syntax, and secrets the environment lacks.
    """
    target = path or _settings().rules_dir
    try:
        found = load_rules(target, environ=os.environ)
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error))
        click.echo(f"{len(exc.errors)} problem(s)")
        sys.exit(1)
    click.echo(f"ok: {len(found)} rule(s) in {target}")


@rules.command("schema")
def rules_schema() -> None:
    """Print the JSON Schema of a rule file, so editors validate and complete rule files."""
    from workers.rules.json_schema import rule_file_schema

    click.echo(json.dumps(rule_file_schema(), indent=2))


@rules.command("test")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--provider", default=None, help="Read EVENT_FILE as this provider's webhook payload (e.g. github)."
)
@click.option("--event", "event_name", default=None, help="The provider's event name, e.g. pull_request.")
@rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def rules_test(
    event_file: Path, provider: str | None, event_name: str | None, rules_dir: Path | None, as_json: bool
) -> None:
    """Dry run: which rules EVENT_FILE matches, why others do not, the exact requests; sends nothing.

    EVENT_FILE is an event envelope (as `GET /api/events/<id>` shows it), or with --provider and
    --event a raw webhook payload. Secrets are masked.
    """
    from workers.rules.dryrun import EventFileError, dry_run, envelope_from

    settings = _settings(rules_dir=rules_dir)
    try:
        payload = json.loads(event_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read {event_file} as JSON: {exc}") from None
    if provider is not None and not event_name:
        raise click.UsageError("--provider needs --event (e.g. --event pull_request)")
    try:
        envelope = envelope_from(payload, provider, event_name)
    except EventFileError as exc:
        raise click.UsageError(str(exc)) from None
    ruleset = _load_rules_or_exit(settings.rules_dir)
    report = dry_run(ruleset, envelope, os.environ)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo(_dry_run_text(report))


def _dry_run_text(report: dict[str, Any]) -> str:
    facts = ", ".join(f"{k}={v}" for k, v in report["event"].items() if v is not None)
    lines = [f"event {facts}", ""]
    matched = [entry for entry in report["rules"] if entry["matched"]]
    others = [entry for entry in report["rules"] if not entry["matched"]]
    lines.append(f"{len(matched)} rule(s) match; nothing is sent (dry run)")
    for entry in matched:
        lines.append(f"  MATCH {entry['rule']}  ({entry['origin']})")
        for action in entry["actions"]:
            via = f" preset {action['preset']}" if "preset" in action else ""
            lines.append(
                f"    action {action['action']} ({action['kind']}{via}), success if {action['success_if']}"
                + (f", emits {action['emit']}" if "emit" in action else "")
            )
            if "not_rendered" in action:
                lines.append(f"      not rendered: {action['not_rendered']}")
                continue
            request = action["request"]
            lines.append(f"      {request['method']} {request['url']}")
            for name, value in request["headers"].items():
                lines.append(f"      {name}: {value}")
            for body in ("json", "form", "body"):
                if body in request:
                    lines.append(f"      {body}: {json.dumps(request[body], default=str)}")
            for name, value in action.get("flow", {}).items():
                lines.append(f"      {name}: {json.dumps(value, default=str)}")
    if others:
        lines.append("")
        lines.append(f"{len(others)} rule(s) do not match:")
        for entry in others:
            lines.append(f"  no    {entry['rule']}: {entry['reason']}")
    return "\n".join(lines)


@rules.command("list")
@rules_option
def rules_list(rules_dir: Path | None) -> None:
    """Rules with their triggers, where they are written and (with Redis) when each last fired."""
    settings = _settings(rules_dir=rules_dir)
    ruleset = _load_rules_or_exit(settings.rules_dir)
    fired: dict[str, str] = {}
    note = ""
    if settings.redis_url is None:
        note = "last fired: unknown (REDIS_URL is not set)"
    else:
        import orjson
        import redis as redis_lib

        from router.connection import sync_client
        from router.records import RULES_FIRED_KEY

        try:
            raw = sync_client(settings.redis_url).hgetall(RULES_FIRED_KEY)
            fired = {k.decode(): str(orjson.loads(v).get("time", "?")) for k, v in raw.items()}
        except redis_lib.RedisError as exc:
            note = f"last fired: unknown (Redis: {type(exc).__name__})"
    rows = [("RULE", "ON", "LAST FIRED", "WHERE")]
    for rule in ruleset.rules.values():
        status = "" if rule.enabled else " (disabled)"
        rows.append((rule.name + status, ", ".join(rule.on), fired.get(rule.name, "never"), rule.origin))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)).rstrip())
    if note:
        click.echo(note)


@rules.command("presets")
def rules_presets() -> None:
    """The presets an action can use (`preset:` + `with:`), with their parameters."""
    from workers.actions.presets import presets

    for preset in presets().values():
        click.echo(f"{preset.name}: {preset.description}")
        for name, param in preset.params.items():
            flag = (
                "required"
                if param.required
                else (f"default {param.default!r}" if param.default else "optional")
            )
            click.echo(f"    {name} ({flag}){': ' + param.description if param.description else ''}")


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


def _api_options(command: Any) -> Any:
    command = click.option(
        "--token",
        envvar="HOOKCHAIN_ADMIN_TOKEN",
        default=DEV_ADMIN_TOKEN,
        help="Admin token. [env HOOKCHAIN_ADMIN_TOKEN; default: dev's]",
    )(command)
    return click.option(
        "--url",
        envvar="HOOKCHAIN_URL",
        default="http://127.0.0.1:8000",
        show_default=True,
        help="Where hookchain listens. [env HOOKCHAIN_URL]",
    )(command)


def _client(url: str, token: str) -> AdminClient:
    return AdminClient(url, token)


def _api(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except AdminAPIError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@_api_options
@click.option("--type", "event_type", default=None, help="Only this type (globs work: 'ci.*').")
@click.option("--source", default=None, help="Only from this source (github, rule:<name>...).")
@click.option("--subject", default=None, help="Only about this subject (acme/api#42, acme/api@<sha>).")
@click.option("--status", default=None, help="pending, ignored, running, succeeded, failed or stopped.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events as they arrive.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls with --follow.")
def events(
    url: str,
    token: str,
    event_type: str | None,
    source: str | None,
    subject: str | None,
    status: str | None,
    limit: int,
    follow: bool,
    interval: float,
) -> None:
    """Recent events, newest last; with --follow, new ones as they come."""
    import time

    client = _client(url, token)
    filters = {"type": event_type, "source": source, "subject": subject, "status": status}
    page = _api(client.get, "/api/events", limit=limit, **filters)["events"]
    for event in reversed(page):
        click.echo(views.event_line(event))
    if not follow:
        return
    seen = {event["id"] for event in page}
    since = max((event["received_at"] for event in page), default=time.time() - 1)
    try:
        while True:
            time.sleep(interval)
            fresh = _api(client.get, "/api/events", limit=200, since=f"{since:.6f}", **filters)
            for event in reversed(fresh["events"]):
                if event["id"] not in seen:
                    seen.add(event["id"])
                    click.echo(views.event_line(event))
                    since = max(since, event["received_at"])
    except KeyboardInterrupt:
        pass


@main.command()
@_api_options
@click.argument("event_id")
@click.option("--verbose", "-v", is_flag=True, help="Every attempt, request headers, longer bodies.")
@click.option("--json", "as_json", is_flag=True, help="The API's answer as JSON.")
def trace(url: str, token: str, event_id: str, verbose: bool, as_json: bool) -> None:
    """The chain EVENT_ID belongs to, as a tree: webhook → rules → calls → outcome events → ..."""
    detail = _api(_client(url, token).get, f"/api/events/{event_id}")
    if as_json:
        click.echo(json.dumps(detail, indent=2))
        return
    for line in views.trace_lines(detail, verbose=verbose):
        click.echo(line)


@main.command()
@_api_options
def status(url: str, token: str) -> None:
    """Queues, workers and failures of a running hookchain; exit 1 when no worker is alive."""
    client = _client(url, token)
    state = _api(client.get, "/api/status")
    dead = _api(client.get, "/api/dead-letters", limit=5)["dead_letters"]
    for line in views.status_lines(state, dead):
        click.echo(line)
    if not state["workers"]:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
