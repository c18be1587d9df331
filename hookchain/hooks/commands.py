"""`hookchain hooks`: register hookchain's URL where the events start, from the rules themselves."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from hookchain.hooks import buildkite, circleci, github, gitlab
from hookchain.hooks.api import ApiClient, ApiError
from hookchain.hooks.github_deliveries import DeliveriesClient, still_failed
from hookchain.hooks.needed_events import CATALOGS, explain, needed_events
from hookchain.hooks.service import Hook, HookService
from router.errors import ConfigError
from router.settings import Settings
from workers.rules import RuleFileError, load_rules

# provider -> environment variables holding its API token, first set wins
TOKEN_ENV = {
    "github": ("GITHUB_TOKEN", "GH_TOKEN"),
    "gitlab": ("GITLAB_TOKEN",),
    "circleci": ("CIRCLECI_TOKEN", "CIRCLE_TOKEN"),
    "buildkite": ("BUILDKITE_API_TOKEN",),
}


@dataclass(frozen=True)
class Target:
    provider: str
    target: str | None
    org: str | None
    group: str | None
    api_url: str | None
    token: str | None
    dry_run: bool
    max_wait: float


def _github(api: ApiClient, t: Target) -> HookService:
    if t.target and t.org:
        raise click.UsageError("give OWNER/REPO or --org ORG, not both")
    return github.GitHubHooks(api, repo=t.target, org=t.org)


def _gitlab(api: ApiClient, t: Target) -> HookService:
    if t.target and t.group:
        raise click.UsageError("give GROUP/PROJECT or --group GROUP, not both")
    return gitlab.GitLabHooks(api, project=t.target, group=t.group)


def _circleci(api: ApiClient, t: Target) -> HookService:
    return circleci.CircleCIHooks(api, project_slug=t.target)


def _buildkite(api: ApiClient, t: Target) -> HookService:
    return buildkite.BuildkiteHooks(api, org=t.org or t.target)


# provider -> (API client factory, hook service factory)
PROVIDERS: dict[str, tuple[Callable[..., ApiClient], Callable[[ApiClient, Target], HookService]]] = {
    "github": (github.client, _github),
    "gitlab": (gitlab.client, _gitlab),
    "circleci": (circleci.client, _circleci),
    "buildkite": (buildkite.client, _buildkite),
}


def _token(t: Target) -> tuple[str, str]:
    """The API token and where it came from."""
    if t.token:
        return t.token, "--token"
    for name in TOKEN_ENV[t.provider]:
        if os.environ.get(name):
            return os.environ[name], name
    if t.dry_run:
        return "<token>", "the token"
    raise click.UsageError(
        f"no {t.provider} API token: set {' or '.join(TOKEN_ENV[t.provider])} (or pass --token)"
    )


def open_service(t: Target) -> HookService:
    make_client, make_service = PROVIDERS[t.provider]
    token, token_source = _token(t)
    api = make_client(
        token,
        t.api_url,
        token_source=token_source,
        dry_run=t.dry_run,
        max_wait=t.max_wait,
        echo=click.echo,
        progress=lambda line: click.echo(line, err=True),
    )
    try:
        return make_service(api, t)
    except ApiError as exc:
        raise click.UsageError(str(exc)) from None


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("provider", type=click.Choice(sorted(PROVIDERS))),
        click.argument("target", required=False),
        click.option(
            "--org", default=None, help="GitHub organisation (org hooks) or Buildkite organisation."
        ),
        click.option("--group", default=None, help="GitLab group (group hooks; GitLab Premium)."),
        click.option(
            "--api-url",
            default=None,
            help="API root for GitHub Enterprise Server (https://HOST/api/v3), self-managed GitLab "
            "(https://HOST) or CircleCI Server. [default: the public service]",
        ),
        click.option(
            "--token",
            default=None,
            help="API token. [env GITHUB_TOKEN, GITLAB_TOKEN, CIRCLECI_TOKEN, BUILDKITE_API_TOKEN]",
        ),
        click.option("--dry-run", is_flag=True, help="Print the API calls it would make; send nothing."),
        click.option(
            "--max-wait",
            default=300.0,
            show_default=True,
            type=click.FloatRange(0, 3600),
            help="Longest wait (seconds) for a rate limit to reset before giving up.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _target(provider: str, target: str | None, **kw: Any) -> Target:
    return Target(provider=provider, target=target, **kw)


def _fail(exc: ApiError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def hook_url(public_url: str, provider: str) -> str:
    """The receiver's URL for a provider: PUBLIC_URL/hooks/<provider>, unless a /hooks/ path is given."""
    url = public_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{public_url!r} is not an http(s) URL", param_hint="--url")
    return url if "/hooks/" in url else f"{url}/hooks/{provider}"


def _format(hook: Hook) -> str:
    state = "active" if hook.active else "inactive"
    events = ",".join(hook.events) or "-"
    last = f"  last: {hook.last_status}" if hook.last_status else ""
    return f"{hook.id}  {state}  {hook.url}  events: {events}{last}"


@click.group()
def hooks() -> None:
    """Register, list, test and delete hookchain's webhooks at GitHub, GitLab and CI providers."""


@hooks.command("register")
@target_options
@click.option(
    "--url", "public_url", required=True, help="hookchain's public URL (…/hooks/<provider> is added)."
)
@click.option(
    "--events",
    default=None,
    help="Comma-separated provider events. [default: the events the rules' on: triggers need]",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Rules to derive the events from. [env HOOKCHAIN_RULES; default rules/]",
)
@click.option(
    "--source",
    "source_name",
    default=None,
    help="Named source in hookchain.yaml whose secret and /hooks/<name> URL to use. [default: PROVIDER]",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="hookchain.yaml declaring the sources. [env HOOKCHAIN_CONFIG; default ./hookchain.yaml if present]",
)
def register(
    provider: str,
    target: str | None,
    public_url: str,
    events: str | None,
    rules_dir: Path | None,
    source_name: str | None,
    config_file: Path | None,
    **kw: Any,
) -> None:
    """Create the webhook, or update in place the one already pointing at the URL (never a duplicate).

    \b
    hookchain hooks register github acme/api --url https://hookchain.example.com
    hookchain hooks register github --org acme --url https://hookchain.example.com
    hookchain hooks register gitlab acme/api --url https://hookchain.example.com
    hookchain hooks register circleci gh/acme/api --url https://hookchain.example.com
    """
    try:
        settings = Settings.load({"rules_dir": rules_dir, "config_file": config_file})
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    name = source_name or provider
    source = next((s for s in settings.all_sources() if s.name == name), None)
    if source is None or not source.secrets:
        raise click.UsageError(
            f"source {name!r} has no secret: set HOOKCHAIN_{provider.upper()}_SECRET or declare it in "
            "hookchain.yaml; the webhook must carry the secret hookchain verifies its deliveries with"
        )
    if source.provider != provider:
        raise click.UsageError(f"source {name!r} is a {source.provider} source, not {provider}")
    secret = source.secret_values()[0]  # the first listed is the current one during a rotation
    url = hook_url(public_url, name)
    service = open_service(_target(provider, target, **kw))
    if not service.registers:
        _fail(service.unsupported("register", service.why_no_register))
    chosen = _events(provider, events, settings.rules_dir)
    try:
        result = service.register(url, chosen, secret)
    except ApiError as exc:
        _fail(exc)
        return
    if result.hook is None:
        click.echo(f"dry run: nothing sent (would register {url} on the {service.scope})")
        return
    verb = "updated in place" if result.action == "updated" else "created"
    click.echo(f"{verb}: hook {result.hook.id} on the {service.scope}")
    click.echo(f"  {_format(result.hook)}")
    for other in result.duplicates:
        click.echo(
            f"warning: hook {other.id} also points at {url} (left alone; "
            f"remove it with `hookchain hooks delete {provider} ... --id {other.id}`)",
            err=True,
        )


def _events(provider: str, events: str | None, rules_dir: Path) -> list[str]:
    if events:
        return sorted({event.strip() for event in events.split(",") if event.strip()})
    catalog = CATALOGS.get(provider)
    if catalog is None:
        raise click.UsageError(f"give the {provider} events with --events")
    try:
        rules = load_rules(rules_dir)
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise click.UsageError(
            f"{len(exc.errors)} problem(s) in the rules: fix them or pass --events"
        ) from None
    triggers = [trigger for rule in rules if rule.enabled for trigger in rule.on]
    chosen = needed_events(catalog, triggers)
    if not chosen:
        raise click.UsageError(
            f"the rules in {rules_dir} react to no {provider} event (their triggers: "
            f"{', '.join(dict.fromkeys(triggers)) or 'none'}); pass --events"
        )
    click.echo(f"events: {', '.join(chosen)} (from the rules in {rules_dir})", err=True)
    for trigger, needed in explain(catalog, triggers).items():
        click.echo(f"  {trigger} -> {', '.join(needed) or '(made by hookchain: no subscription)'}", err=True)
    return chosen


@hooks.command("list")
@target_options
def list_hooks(provider: str, target: str | None, **kw: Any) -> None:
    """List the webhooks of a repository, organisation, project or group."""
    service = open_service(_target(provider, target, **kw))
    try:
        found = service.list()
    except ApiError as exc:
        _fail(exc)
        return
    if kw["dry_run"]:
        return
    if not found:
        click.echo(f"no webhooks on the {service.scope}")
    for hook in found:
        click.echo(_format(hook))


def _selected(service: HookService, hook_id: str | None, url: str | None, provider: str) -> list[str]:
    if bool(hook_id) == bool(url):
        raise click.UsageError("give the hook with --id ID or --url URL (one of them)")
    if hook_id:
        return [hook_id]
    assert url is not None
    wanted = hook_url(url, provider)
    ids = [hook.id for hook in service.find(wanted)]
    if not ids and not service.api.dry_run:
        raise ApiError(f"no webhook on the {service.scope} points at {wanted}")
    return ids or ["<id>"]


hook_choice = [
    click.option("--id", "hook_id", default=None, help="The hook's id (see `hookchain hooks list`)."),
    click.option("--url", "url", default=None, help="hookchain's URL the hook points at."),
]


def hook_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(hook_choice):
        func = option(func)
    return target_options(func)


@hooks.command("delete")
@hook_options
def delete(provider: str, target: str | None, hook_id: str | None, url: str | None, **kw: Any) -> None:
    """Delete the webhook with --id, or every webhook pointing at --url."""
    service = open_service(_target(provider, target, **kw))
    try:
        for selected in _selected(service, hook_id, url, provider):
            service.delete(selected)
            if not kw["dry_run"]:
                click.echo(f"deleted: hook {selected} on the {service.scope}")
    except ApiError as exc:
        _fail(exc)


@hooks.command("ping")
@hook_options
def ping(provider: str, target: str | None, hook_id: str | None, url: str | None, **kw: Any) -> None:
    """Ask the provider to send the hook a test delivery."""
    service = open_service(_target(provider, target, **kw))
    try:
        for selected in _selected(service, hook_id, url, provider):
            message = service.ping(selected)
            if not kw["dry_run"]:
                click.echo(f"hook {selected}: {message}")
    except ApiError as exc:
        _fail(exc)


@hooks.command("deliveries")
@hook_options
@click.option(
    "--limit", default=30, show_default=True, type=click.IntRange(1, 1000), help="Deliveries to read."
)
@click.option(
    "--redeliver-failed",
    is_flag=True,
    help="Redeliver every delivery whose latest attempt failed (GitHub keeps them 3 days).",
)
def deliveries(
    provider: str,
    target: str | None,
    hook_id: str | None,
    url: str | None,
    limit: int,
    redeliver_failed: bool,
    **kw: Any,
) -> None:
    """Recent deliveries of a GitHub hook (status, event, GUID, redelivery); redeliver failed ones."""
    if provider != "github":
        raise click.UsageError(f"`hooks deliveries` reads GitHub's deliveries API; {provider} has none here")
    service = open_service(_target(provider, target, **kw))
    assert isinstance(service, github.GitHubHooks)
    try:
        for selected in _selected(service, hook_id, url, provider):
            client = DeliveriesClient(service.api, service.path, selected)
            recent = client.recent(limit)
            if kw["dry_run"]:
                if redeliver_failed:
                    service.api.request("POST", f"{client.path}/<delivery id>/attempts")
                    click.echo("dry run: nothing sent (one POST per failed delivery)")
                continue
            click.echo(f"hook {selected}: {len(recent)} recent deliveries")
            for d in recent:
                event = f"{d.event}.{d.action}" if d.action else d.event
                again = "  redelivery" if d.redelivery else ""
                click.echo(
                    f"  {d.id}  {d.delivered_at}  {d.status_code} {d.status}  {event}  {d.guid}{again}"
                )
            if redeliver_failed:
                failed = still_failed(recent)
                for d in failed:
                    client.redeliver(d.id)
                    click.echo(f"redelivered: {d.id} ({d.event}, {d.guid})")
                click.echo(f"{len(failed)} failed deliveries redelivered")
    except ApiError as exc:
        _fail(exc)
