"""`hookchain rules test`: what the rules would do with an event, computed by production's own code.

Matching is `match_rule`, rendering is the engine's `render_request` and each kind's `describe`;
nothing is sent and nothing is written. Secrets are masked in everything reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from router.events import Event, utc_now
from router.providers import PROVIDERS
from workers.actions.http import mask_value, sent_headers
from workers.actions.kinds import ACTION_KINDS
from workers.actions.templating import RenderError, render_string
from workers.rules.match import RuleSet, match_rule
from workers.rules.schema import Action, Rule
from workers.runtime import Secrets

DRY_RUN_ID = "dry-run"


class EventFileError(ValueError):
    """The event file is neither an envelope nor a payload the named provider understands."""


def envelope_from(payload: Any, provider: str | None, event_name: str | None) -> dict[str, Any]:
    """An envelope as is, or a provider payload normalised by its adapter, as the receiver does."""
    if not isinstance(payload, dict):
        raise EventFileError("the event file must hold a JSON object")
    if provider is None:
        if "type" not in payload or "data" not in payload:
            raise EventFileError(
                "this is not an event envelope (no type and data): give --provider and --event "
                "to read it as a webhook payload"
            )
        return Event.from_dict(
            {
                "source": "test",
                "provider_type": payload["type"],
                "time": utc_now(),
                "id": DRY_RUN_ID,
                **payload,
            }
        ).to_dict()
    adapter_class = PROVIDERS.get(provider)
    if adapter_class is None:
        raise EventFileError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    headers = {f"x-{provider}-event": event_name or ""}
    try:
        event = adapter_class().to_event(
            headers, payload, event_id=DRY_RUN_ID, received_at=utc_now(), source=provider
        )
    except Exception as exc:  # WebhookRejected and friends: the file is the user's to fix
        raise EventFileError(f"{provider} cannot read this payload as {event_name!r}: {exc}") from None
    return event.to_dict()


def _flow(action: Action, context: dict[str, Any]) -> dict[str, Any]:
    flow: dict[str, Any] = {}
    if action.delay:
        flow["delay"] = action.delay
    if action.debounce:
        flow["debounce"] = {"key": render_string(action.debounce.key, context), "wait": action.debounce.wait}
    if action.throttle:
        flow["throttle"] = {"key": render_string(action.throttle.key, context), "per": action.throttle.per}
    if action.concurrency:
        key = render_string(action.concurrency.key, context)
        flow["concurrency"] = {"key": key, "limit": action.concurrency.limit}
    return flow


def planned_actions(
    rule: Rule, envelope: Mapping[str, Any], environ: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Each action of a matched rule, rendered; an action that reads `steps` of an earlier one says so."""
    from workers.engine import idempotency_key, render_request

    planned = []
    for index, action in enumerate(rule.do):
        secrets = Secrets(environ)
        context = {"event": dict(envelope), "secrets": secrets, "steps": {}}
        entry: dict[str, Any] = {"action": rule.action_label(index), "kind": action.kind}
        if action.preset:
            entry["preset"] = action.preset
        try:
            request = render_request(action, context)
            # The headers `send` adds, so what is shown is what would go on the wire.
            key = idempotency_key(str(envelope.get("id", DRY_RUN_ID)), rule.name, index)
            request = replace(request, headers=sent_headers(request.headers, key))
            entry["request"] = ACTION_KINDS[action.kind].describe(request, secrets.used)
            flow = _flow(action, context)
            if flow:
                entry["flow"] = mask_value(flow, secrets.used)
        except RenderError as exc:
            later = index > 0 and "steps" in str(exc)
            entry["not_rendered"] = mask_value(str(exc), secrets.used)
            if later:
                entry["not_rendered"] += " (it reads steps of earlier actions, known only when they have run)"
        entry["success_if"] = action.success_if or "2xx"
        if action.emit_type:
            entry["emit"] = action.emit_type
        planned.append(entry)
    return planned


def dry_run(rules: RuleSet, envelope: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Which rules match and why the others do not, and the exact requests the matches would send."""
    report: dict[str, Any] = {
        "event": {k: envelope.get(k) for k in ("type", "repo", "branch", "sha", "pr", "actor")}
    }
    results = []
    candidates = {rule.name for rule in rules.candidates(envelope.get("type", ""))}
    for rule in rules.rules.values():
        result = match_rule(rule, envelope)
        entry: dict[str, Any] = {"rule": rule.name, "matched": result.matched, "origin": rule.origin}
        if result.matched:
            assert rule.name in candidates, "the index and match_rule disagree"
            entry["actions"] = planned_actions(rule, envelope, environ)
        else:
            entry["reason"] = result.reason
        results.append(entry)
    report["rules"] = results
    return report
