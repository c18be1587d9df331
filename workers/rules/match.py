"""Matching a rule against an event: a pure function of (rule, event).

Rules are indexed by trigger, so the cost per event grows with the rules that could match,
not with all the rules there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


def _present(wanted: Any, actual: Any) -> str | None:
    there = actual is not _MISSING and actual is not None
    if there == bool(wanted):
        return None
    return "is absent" if wanted else f"is present ({actual!r})"


def _absent(wanted: Any, actual: Any) -> str | None:
    return _present(not wanted, actual)


def _not(unwanted: Any, actual: Any) -> str | None:
    if actual is not _MISSING and value_matches(unwanted, actual):
        return f"is {actual!r}, which it must not be"
    return None


MATCH_TESTS: dict[str, Callable[[Any, Any], str | None]] = {
    "present": _present,
    "absent": _absent,
    "not": _not,
}
"""`match: {path: {<test>: argument}}`: each test gives why it failed, or None. Names are checked at load."""


def condition_failure(path: str, expected: Any, envelope: Mapping[str, Any]) -> str | None:
    """Why one `match:` entry does not hold for the event, or None when it does."""
    actual = lookup(envelope, path)
    if isinstance(expected, Mapping):
        ((name, argument),) = expected.items()
        failure = MATCH_TESTS[name](argument, actual)
        return None if failure is None else f"{path} {failure}"
    if actual is _MISSING:
        return f"{path} is absent"
    if not value_matches(expected, actual):
        return f"{path} is {actual!r}, not {expected!r}"
    return None


def match_rule(rule: Rule, envelope: Mapping[str, Any]) -> MatchResult:
    event_type = envelope.get("type", "")
    if not rule.enabled:
        return MatchResult(rule.name, False, "rule is disabled")
    if not any(trigger_matches(pattern, event_type) for pattern in rule.on):
        return MatchResult(rule.name, False, f"on: {event_type!r} is not one of {rule.on}")
    for path, expected in rule.match.items():
        failure = condition_failure(path, expected, envelope)
        if failure is not None:
            return MatchResult(rule.name, False, f"match: {failure}")
    if rule.if_ is not None:
        try:
            verdict = evaluate(rule.if_, {"event": envelope})
        except RenderError as exc:
            return MatchResult(rule.name, False, f"if: {exc}")
        if not verdict:
            return MatchResult(rule.name, False, f"if: {rule.if_!r} is false")
    return MatchResult(rule.name, True)


def _first_segment(pattern: str) -> str | None:
    """`ci` for `ci.*`; None when the first dotted segment itself has a glob (`*.failed`)."""
    head = pattern.split(".", 1)[0]
    return None if is_glob(head) or head == pattern else head


class RuleSet:
    """Rules indexed by the event types they react to.

    Exact types are a dict lookup. Globs are bucketed by their first dotted segment (`ci.*` under
    `ci`), so an event only meets the globs that share its first segment, plus the few whose first
    segment is itself a glob.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: dict[str, Rule] = {}
        self._exact: dict[str, list[Rule]] = {}
        self._globs: dict[str | None, list[tuple[str, Rule]]] = {}
        for rule in rules:
            self.rules[rule.name] = rule
            for pattern in dict.fromkeys(rule.on):
                if is_glob(pattern):
                    self._globs.setdefault(_first_segment(pattern), []).append((pattern, rule))
                else:
                    self._exact.setdefault(pattern, []).append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def candidates(self, event_type: str) -> list[Rule]:
        """Rules whose `on:` names this type, each once: exact names first, then globs."""
        found = {rule.name: rule for rule in self._exact.get(event_type, ())}
        if event_type not in EXACT_ONLY_TYPES:
            head = event_type.split(".", 1)[0]
            for bucket in (self._globs.get(head, ()), self._globs.get(None, ())):
                for pattern, rule in bucket:
                    if rule.name not in found and fnmatchcase(event_type, pattern):
                        found[rule.name] = rule
        return list(found.values())

    def listens_to(self, event_type: str) -> bool:
        return bool(self.candidates(event_type))

    def evaluate(self, envelope: Mapping[str, Any]) -> list[MatchResult]:
        """A result for every candidate rule; rules that cannot match are never looked at."""
        return [match_rule(rule, envelope) for rule in self.candidates(envelope.get("type", ""))]
