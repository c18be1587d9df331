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
    context = runtime.WorkerContext.build(settings, redis=connection, rules=rules)
    context.watch_rules()
    runtime.install(context)

    def ready() -> None:
        click.echo(
            f"hookchain worker: {len(rules)} rules from {settings.rules_dir} (reloaded on change), "
            f"Redis {redacted(settings.redis_url)}"
        )

    run_worker(connection, burst=burst, name=name, on_ready=ready)


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
        import redis as redis_lib

        from router.connection import sync_client
        from workers.store import LAST_FIRED_KEY

        try:
            raw = sync_client(settings.redis_url).hgetall(LAST_FIRED_KEY)
            fired = {k.decode(): v.decode() for k, v in raw.items()}
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


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
