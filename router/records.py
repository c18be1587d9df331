"""Where the event log lives in Redis: one key layout shared by the receiver, the workers and the API.

Every key expires with the event log's retention (`event_ttl`, 7 days by default):
- `hookchain:event:<id>`: the envelope (JSON)
- `hookchain:log`: every event id, scored by receipt time (seconds)
- `hookchain:index:chain:<correlation id>` / `type:` / `source:` / `subject:`: the same, per chain,
  type, source and subject (`subjects_of`: the subject, `repo@sha` and `repo#pr`), so a filter
  reads only the events it can return
- `hookchain:matches:<id>`: every candidate rule, matched or not, with the reason (JSON list)
- `hookchain:actions:<id>`: `<rule>/<index>` -> the action's status, attempts and outcome (JSON)
- `hookchain:dead`: dead letters, newest first
- `hookchain:rules` / `hookchain:rules:fired`: the rules the workers run, and when each last fired
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY_PREFIX = "hookchain"
EVENT_LOG_KEY = f"{KEY_PREFIX}:log"
"""Sorted set of every recorded event id, scored by receipt time (seconds)."""
DEAD_LETTERS_KEY = f"{KEY_PREFIX}:dead"
DEAD_LETTERS_KEPT = 10_000
REPLAYS_KEY = f"{KEY_PREFIX}:index:replays"
"""Sorted set of the events that are replays (their causation id names the original)."""
RULES_KEY = f"{KEY_PREFIX}:rules"
"""Hash: rule name -> the rule as the workers loaded it (JSON)."""
RULES_FIRED_KEY = f"{KEY_PREFIX}:rules:fired"
"""Hash: rule name -> its last firing: time, event, correlation id, status (JSON)."""


def event_key(event_id: str) -> str:
    return f"{KEY_PREFIX}:event:{event_id}"


def matches_key(event_id: str) -> str:
    return f"{KEY_PREFIX}:matches:{event_id}"


def actions_key(event_id: str) -> str:
    return f"{KEY_PREFIX}:actions:{event_id}"


def action_field(rule: str, index: int) -> str:
    return f"{rule}/{index}"


def index_key(kind: str, value: str) -> str:
    """An index of event ids by receipt time: kind is chain, type, source or subject."""
    return f"{KEY_PREFIX}:index:{kind}:{value}"


def subjects_of(facts: Mapping[str, Any]) -> list[str]:
    """Every name an event is about: its subject, `repo@sha` and `repo#pr`.

    A pull request's events and a deploy tool's later callback about the merge commit share
    `repo@sha` though their subjects differ, so one look-up finds both.
    """
    names = [facts.get("subject")]
    repo = facts.get("repo")
    if repo and facts.get("sha"):
        names.append(f"{repo}@{facts['sha']}")
    if repo and facts.get("pr") is not None:
        names.append(f"{repo}#{facts['pr']}")
    return list(dict.fromkeys(str(name) for name in names if name))
