"""The rules' dry run: which rules an event would fire, why the others would not, and the requests
the fired ones would send (secrets masked). Nothing is sent and nothing is written.

It uses the production code path: the same loader, matcher and renderers as the worker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from router.events import Event, new_event_id, utc_now
from router.providers import PROVIDERS
from workers.rules import Rule, RuleFileError, RuleSet, load_rules, load_rules_text
from workers.rules.dryrun import dry_run as rules_dry_run


class DryRunError(ValueError):
    """The event or the rules given cannot be tried; the message says what to change."""


def envelope_of(event: Mapping[str, Any], provider: str | None, provider_event: str | None) -> dict[str, Any]:
    """An event envelope, from an envelope (it has a `type`) or from a provider's payload."""
    if provider_event is not None or provider is not None:
        name = provider or "github"
        adapter_class = PROVIDERS.get(name)
        if adapter_class is None:
            raise DryRunError(f"unknown provider {name!r}; known: {', '.join(sorted(PROVIDERS))}")
        if not provider_event:
            raise DryRunError("give github_event (the X-GitHub-Event name, e.g. pull_request) with a payload")
        try:
            normalised = adapter_class().to_event(
                {"x-github-event": provider_event},
                dict(event),
                event_id=new_event_id(),
                received_at=utc_now(),
                source=name,
            )
        except Exception as exc:  # the adapter's refusal, said as it would be to the provider
            raise DryRunError(
                f"cannot read this payload as a {name} {provider_event!r} delivery: {exc}"
            ) from None
        return normalised.to_dict()
    if not isinstance(event.get("type"), str) or not event["type"]:
        raise DryRunError(
            'event needs a `type` (an envelope such as {"type": "ci.failed", "repo": "acme/api"}); '
            "for a raw provider payload, also give github_event"
        )
    values = {"id": f"dry-run-{new_event_id()}", "source": "dry-run", "time": utc_now(), **event}
    values.setdefault("provider_type", values["type"])
    try:
        return Event.from_dict(values).to_dict()
    except TypeError as exc:
        raise DryRunError(f"event is not a valid envelope: {exc}") from None


def rules_to_try(rules_dir: Path, rules_yaml: str | None) -> list[Rule]:
    if rules_yaml is not None:
        found, errors = load_rules_text(rules_yaml, "rules_yaml")
        if errors:
            raise DryRunError("fix the rules first:\n" + "\n".join(str(error) for error in errors))
        if not found:
            raise DryRunError("rules_yaml holds no rule: give one rule, or a list under rules:")
        return found
    try:
        return load_rules(rules_dir)
    except RuleFileError as exc:
        raise DryRunError("the rules folder has problems:\n" + str(exc)) from None


def dry_run(
    envelope: dict[str, Any], rules: list[Rule], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The dry run of `hookchain rules test`: which rules match, why not, what they would send."""
    report = rules_dry_run(RuleSet(rules), envelope, os.environ if environ is None else environ)
    return {
        **report,
        "event": envelope,
        "matched": [entry["rule"] for entry in report["rules"] if entry["matched"]],
        "sent": False,
        "note": "dry run: nothing was sent or recorded; `steps` of earlier actions are empty here",
    }
