"""Property-based: rule matching is a pure function, and the rule set's index never changes the answer."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.rules import RuleSet, match_rule
from workers.rules.schema import Rule

words = st.sampled_from(["ci", "pr", "push", "deploy", "action", "release", "x"])
outcomes = st.sampled_from(["passed", "failed", "opened", "merged", "succeeded", "published", "y"])
event_types = st.one_of(words, st.builds(lambda a, b: f"{a}.{b}", words, outcomes))
patterns = st.one_of(
    event_types, st.builds(lambda a: f"{a}.*", words), st.just("*"), st.builds(lambda b: f"*.{b}", outcomes)
)
repos = st.sampled_from(["acme/api", "acme/web", "other/api"])
repo_patterns = st.one_of(repos, st.just("acme/*"), st.lists(repos, min_size=1, max_size=2))


def make_rule(index: int, on: list[str], repo: Any) -> Rule:
    match = {} if repo is None else {"repo": repo}
    return Rule.model_validate(
        {"name": f"r{index}", "on": on, "match": match, "do": [{"http": {"url": "https://x.example"}}]}
    )


rules_strategy = st.lists(
    st.tuples(st.lists(patterns, min_size=1, max_size=3), st.one_of(st.none(), repo_patterns)),
    max_size=8,
).map(lambda specs: [make_rule(i, on, repo) for i, (on, repo) in enumerate(specs)])


def envelope(event_type: str, repo: str) -> dict[str, Any]:
    return {"id": "e", "type": event_type, "repo": repo, "branch": "main", "data": {}}


def expected_match(rule: Rule, event: dict[str, Any]) -> bool:
    """The documented semantics, written independently of the matcher."""
    type_ok = any(
        fnmatchcase(event["type"], p) if any(c in p for c in "*?[") else p == event["type"] for p in rule.on
    )
    if not type_ok or event["type"] == "ping":
        return type_ok and "ping" in rule.on
    if "repo" not in rule.match:
        return True
    wanted = rule.match["repo"]
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(fnmatchcase(event["repo"], o) if "*" in o else o == event["repo"] for o in options)


@given(rules=rules_strategy, event_type=event_types, repo=repos)
@settings(max_examples=300)
def test_rule_set_answers_exactly_like_matching_every_rule(rules: list[Rule], event_type: str, repo: str):
    event = envelope(event_type, repo)
    by_index = {r.rule for r in RuleSet(rules).evaluate(event) if r.matched}
    by_brute_force = {rule.name for rule in rules if match_rule(rule, event).matched}
    assert by_index == by_brute_force


@given(rules=rules_strategy, event_type=event_types, repo=repos)
@settings(max_examples=300)
def test_matching_follows_the_documented_semantics(rules: list[Rule], event_type: str, repo: str):
    event = envelope(event_type, repo)
    for rule in rules:
        result = match_rule(rule, event)
        assert result.matched == expected_match(rule, event), (rule.on, rule.match, event_type, repo)
        assert result.matched or result.reason  # a miss always says why


@given(rule_spec=st.tuples(st.lists(patterns, min_size=1, max_size=3), repo_patterns), repo=repos)
def test_matching_is_pure(rule_spec: tuple[list[str], Any], repo: str):
    rule = make_rule(0, *rule_spec)
    event = envelope("ci.passed", repo)
    snapshot = repr(event)
    assert match_rule(rule, event) == match_rule(rule, event)
    assert repr(event) == snapshot
