"""Matching a rule against an event: a pure function of (rule, event).

Rules are indexed by trigger, so the cost per event grows with the rules that could match,
not with all the rules there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from workers.actions.templating import RenderError, evaluate
from workers.rules.schema import Rule

GLOB_CHARS = frozenset("*?[")
# Handshakes are recorded but trigger only rules that name them exactly.
EXACT_ONLY_TYPES = frozenset({"ping"})
_MISSING = object()


@dataclass(frozen=True)
class MatchResult:
    rule: str
    matched: bool
    reason: str | None = None
    """Why it did not match: the first condition that failed."""


def is_glob(pattern: str) -> bool:
    return not GLOB_CHARS.isdisjoint(pattern)


def trigger_matches(pattern: str, event_type: str) -> bool:
    if event_type in EXACT_ONLY_TYPES or not is_glob(pattern):
        return pattern == event_type
    return fnmatchcase(event_type, pattern)


def lookup(envelope: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path such as `repo` or `data.pull_request.base.ref`, or _MISSING."""
    value: Any = envelope
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def value_matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, list):
        return any(value_matches(option, actual) for option in expected)
    if isinstance(expected, str) and isinstance(actual, str) and is_glob(expected):
        return fnmatchcase(actual, expected)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def match_rule(rule: Rule, envelope: Mapping[str, Any]) -> MatchResult:
    event_type = envelope.get("type", "")
    if not rule.enabled:
        return MatchResult(rule.name, False, "rule is disabled")
    if not any(trigger_matches(pattern, event_type) for pattern in rule.on):
        return MatchResult(rule.name, False, f"on: {event_type!r} is not one of {rule.on}")
    for path, expected in rule.match.items():
        actual = lookup(envelope, path)
        if actual is _MISSING:
            return MatchResult(rule.name, False, f"match: {path} is absent")
        if not value_matches(expected, actual):
            return MatchResult(rule.name, False, f"match: {path} is {actual!r}, not {expected!r}")
    if rule.if_ is not None:
        try:
            verdict = evaluate(rule.if_, {"event": envelope})
        except RenderError as exc:
            return MatchResult(rule.name, False, f"if: {exc}")
        if not verdict:
            return MatchResult(rule.name, False, f"if: {rule.if_!r} is false")
    return MatchResult(rule.name, True)


class RuleSet:
    """Rules indexed by the event types they react to."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: dict[str, Rule] = {}
        self._exact: dict[str, list[Rule]] = {}
        self._globs: list[tuple[str, Rule]] = []
        for rule in rules:
            self.rules[rule.name] = rule
            for pattern in dict.fromkeys(rule.on):
                if is_glob(pattern):
                    self._globs.append((pattern, rule))
                else:
                    self._exact.setdefault(pattern, []).append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def candidates(self, event_type: str) -> list[Rule]:
        """Rules whose `on:` names this type, in the order they were loaded, each once."""
        found = {rule.name: rule for rule in self._exact.get(event_type, ())}
        if event_type not in EXACT_ONLY_TYPES:
            for pattern, rule in self._globs:
                if rule.name not in found and fnmatchcase(event_type, pattern):
                    found[rule.name] = rule
        return list(found.values())

    def listens_to(self, event_type: str) -> bool:
        return bool(self.candidates(event_type))

    def evaluate(self, envelope: Mapping[str, Any]) -> list[MatchResult]:
        """A result for every candidate rule; rules that cannot match are never looked at."""
        return [match_rule(rule, envelope) for rule in self.candidates(envelope.get("type", ""))]
