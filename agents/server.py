"""hookchain as an MCP server: tools over the chain, the event log and the rules; rule files as resources.

The same server is served over stdio (`hookchain mcp`) and over streamable HTTP at `/mcp` of the
web app (`agents/http.py`). Every tool failure is a tool error whose message says what to
change; nothing returns a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import redis.asyncio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resources import FileResource
from mcp_types import ToolAnnotations
from pydantic import Field
from redis.exceptions import RedisError

from agents import dryrun, records, writes
from router.settings import Settings
from workers.rules import RuleFileError, load_rules
from workers.rules.loader import rule_files

log = logging.getLogger("hookchain.mcp")

RedisProvider = Callable[[], redis.asyncio.Redis]
T = TypeVar("T")

INSTRUCTIONS = """\
hookchain routes webhooks into chains of API calls: an event (ci.failed, pr.merged, …) matches
reaction rules, each rule's action calls an API, and what the call returns becomes the next event.
Use emit_event to tell the chain something happened ("staging smoke tests passed", "fix pushed");
pass caused_by to continue an existing chain. Use get_chain to see what a chain did, list_failures
and retry_failed when something broke, and test_rules to try a rule before anyone saves it.
"""

EventType = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        max_length=200,
        description="Event type, dotted, e.g. `smoke.passed`, `fix.pushed`, `deploy.succeeded`.",
    ),
]
EventId = Annotated[
    str, Field(min_length=1, max_length=200, description="An event id, e.g. from list_events.")
]
Limit = Annotated[int, Field(ge=1, le=500, description="At most this many results.")]


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ToolError(
            f"since: {value!r} is not an RFC 3339 time; write e.g. 2026-11-25T17:00:00Z"
        ) from None


async def _guarded(work: Awaitable[T]) -> T:
    """Redis and refusals become tool errors that say what to do."""
    try:
        return await work
    except (writes.ChainRefused, dryrun.DryRunError) as exc:
        raise ToolError(str(exc)) from None
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("mcp tool: Redis unavailable: %s", type(exc).__name__)
        raise ToolError(
            f"Redis is unavailable ({type(exc).__name__}): "
            "check REDIS_URL and that Redis is up, then try again"
        ) from None


def build_server(settings: Settings, redis_client: RedisProvider) -> MCPServer:
    """The MCP server; `redis_client()` gives the async Redis client to use at call time."""
    server = MCPServer("hookchain", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING")
    rules_dir = Path(settings.rules_dir)
    read_only = ToolAnnotations(readOnlyHint=True)

    @server.tool(
        description=(
            "Put an event on the chain, exactly as a verified webhook would (source `mcp`); rules whose "
            "`on:` names its type fire. Returns its id. Give idempotency_key to make a retry of this call "
            "a no-op (the same key returns the first id with duplicate=true). Give caused_by (an event "
            "id) to continue that event's chain: the new event joins it one hop deeper and inherits "
            "its repo, branch, sha, pr, subject and actor."
        )
    )
    async def emit_event(
        type: EventType,
        subject: Annotated[str | None, Field(description="What it is about, e.g. `acme/api#42`.")] = None,
        repo: Annotated[str | None, Field(description="`owner/name`.")] = None,
        branch: Annotated[str | None, Field(description="Branch name, e.g. `main`.")] = None,
        sha: Annotated[str | None, Field(description="Commit sha.")] = None,
        pr: Annotated[int | None, Field(description="Pull request number.", ge=1)] = None,
        url: Annotated[str | None, Field(description="A link a person can open, e.g. a report.")] = None,
        data: Annotated[
            dict[str, Any] | None, Field(description="Payload; rules read it as `event.data`.")
        ] = None,
        idempotency_key: Annotated[
            str | None, Field(min_length=1, max_length=200, description="Same key, same event: deduplicated.")
        ] = None,
        caused_by: Annotated[str | None, Field(description="Event id whose chain this continues.")] = None,
    ) -> dict[str, Any]:
        facts = {"subject": subject, "repo": repo, "branch": branch, "sha": sha, "pr": pr, "url": url}
        return await _guarded(
            writes.emit_event(
                redis_client(),
                settings,
                event_type=type,
                facts=facts,
                data=data or {},
                idempotency_key=idempotency_key,
                caused_by=caused_by,
            )
        )

    @server.tool(
        description=(
            "The chain an event belongs to, as a tree from its first event: every event with the rules "
            "it matched (and why others did not), each action with every attempt's request (secrets "
            "masked) and response, and the events it caused."
        ),
        annotations=read_only,
    )
    async def get_chain(event_id: EventId) -> dict[str, Any]:
        tree = await _guarded(records.chain_tree(redis_client(), event_id))
        if tree is None:
            raise ToolError(f"no event {event_id!r} (expired, or a typo): list_events shows recent ids")
        return tree

    @server.tool(
        description=(
            "Recent events, newest first. Filter by type and subject (globs: `ci.*`, `acme/api#*`), by "
            "status (pending, unmatched, running, succeeded, failed) and by time (`since`, RFC 3339)."
        ),
        annotations=read_only,
    )
    async def list_events(
        type: Annotated[
            str | None, Field(description="Event type or glob, e.g. `ci.failed`, `pr.*`.")
        ] = None,
        subject: Annotated[str | None, Field(description="Subject or glob, e.g. `acme/api#*`.")] = None,
        status: Annotated[
            str | None,
            Field(
                pattern="^(pending|unmatched|running|succeeded|failed)$",
                description="pending, unmatched, running, succeeded or failed.",
            ),
        ] = None,
        since: Annotated[str | None, Field(description="Only events after this RFC 3339 time.")] = None,
        limit: Limit = 50,
    ) -> dict[str, Any]:
        found = await _guarded(
            records.list_events(
                redis_client(),
                type_pattern=type,
                subject_pattern=subject,
                status=status,
                since=_since(since),
                limit=limit,
            )
        )
        return {"events": found, "count": len(found)}

    @server.tool(
        description=(
            "Actions that failed for good (retries used up, a 4xx, a refused target, a template error), "
            "newest first: event id, rule, action and the error. retry_failed queues one again."
        ),
        annotations=read_only,
    )
    async def list_failures(limit: Limit = 50) -> dict[str, Any]:
        found = await _guarded(records.list_failures(redis_client(), limit))
        return {"failures": found, "count": len(found)}

    @server.tool(
        description=(
            "Queue the failed actions of an event again (all of them, or only one rule's, or one action "
            "of it), with the same Idempotency-Key as before; they leave the failure list."
        )
    )
    async def retry_failed(
        event_id: EventId,
        rule: Annotated[str | None, Field(description="Only this rule's failed actions.")] = None,
        action: Annotated[str | None, Field(description="Only this action (its name or index).")] = None,
    ) -> dict[str, Any]:
        return await _guarded(writes.retry_failed(redis_client(), event_id, rule, action))

    @server.tool(
        description=(
            "Run an event through today's rules again, as a copy with a new id in the same chain "
            "(caused by the original), so its actions fire again. Returns the copy's id."
        )
    )
    async def replay_event(event_id: EventId) -> dict[str, Any]:
        return await _guarded(writes.replay_event(redis_client(), settings, event_id))

    @server.tool(
        description="The reaction rules in force: name, trigger (`on`), conditions, actions and file.",
        annotations=read_only,
    )
    async def list_rules() -> dict[str, Any]:
        try:
            rules = load_rules(rules_dir)
        except RuleFileError as exc:
            raise ToolError(f"the rules folder {rules_dir} has problems:\n{exc}") from None
        return {
            "rules_dir": str(rules_dir),
            "rules": [
                {**rule.model_dump(mode="json", by_alias=True, exclude_none=True), "origin": rule.origin}
                for rule in rules
            ],
        }

    @server.tool(
        description=(
            "Dry run: which rules an event would fire, why each other rule would not, and the requests "
            "the fired ones would send (secrets masked). Nothing is sent or recorded. `event` is an "
            "envelope with at least `type` (e.g. {type: ci.failed, repo: acme/api, sha: …, data: {…}}), "
            "or a raw GitHub payload together with github_event. Give rules_yaml (one rule, or a list "
            "under `rules:`) to try rules that are not saved yet instead of the rules folder."
        ),
        annotations=read_only,
    )
    async def test_rules(
        event: Annotated[dict[str, Any], Field(description="An event envelope, or a provider payload.")],
        github_event: Annotated[
            str | None, Field(description="X-GitHub-Event of a raw GitHub payload, e.g. `pull_request`.")
        ] = None,
        rules_yaml: Annotated[
            str | None, Field(description="Rule YAML to try instead of the folder.")
        ] = None,
    ) -> dict[str, Any]:
        try:
            envelope = dryrun.envelope_of(event, "github" if github_event else None, github_event)
            rules = dryrun.rules_to_try(rules_dir, rules_yaml)
        except dryrun.DryRunError as exc:
            raise ToolError(str(exc)) from None
        return dryrun.dry_run(envelope, rules)

    for file in rule_files(rules_dir) if rules_dir.exists() else []:
        relative = file.relative_to(rules_dir) if rules_dir.is_dir() else Path(file.name)
        server.add_resource(
            FileResource(
                uri=f"hookchain://rules/{relative.as_posix()}",
                name=relative.as_posix(),
                description=f"Reaction rule file {relative.as_posix()}",
                mime_type="application/yaml",
                path=file.resolve(),
                encoding="utf-8",
            )
        )
    return server
