"""Matching is a pure function of (rule, event); the rule set only looks at rules that could match."""

from __future__ import annotations

from typing import Any

from workers.rules import RuleSet, load_rules_text, match_rule
from workers.rules.schema import Rule

EVENT: dict[str, Any] = {
    "id": "e1",
    "type": "ci.passed",
    "repo": "acme/api",
    "branch": "main",
    "actor": "octocat",
    "pr": 42,
    "data": {"check_suite": {"app": {"slug": "github-actions"}}, "labels": ["a", "b"]},
}


def rule(text: str) -> Rule:
    rules, errors = load_rules_text(text + "\ndo: [{http: {url: 'https://x.example'}}]\n", "t.yaml")
    assert errors == []
    return rules[0]


def test_type_glob_and_list():
    assert match_rule(rule("name: r\non: ci.passed"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.*"), EVENT).matched
    assert match_rule(rule("name: r\non: [push, ci.passed]"), EVENT).matched
    miss = match_rule(rule("name: r\non: ci.failed"), EVENT)
    assert not miss.matched and "'ci.passed' is not one of ['ci.failed']" in miss.reason


def test_ping_matches_only_when_named():
    ping = {**EVENT, "type": "ping"}
    assert not match_rule(rule("name: r\non: '*'"), ping).matched
    assert match_rule(rule("name: r\non: ping"), ping).matched


def test_match_equality_glob_list_and_dotted_paths():
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {repo: acme/api, branch: main}"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {repo: 'acme/*'}"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {branch: [main, 'release/*']}"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {pr: 42}"), EVENT).matched
    assert match_rule(
        rule("name: r\non: ci.passed\nmatch: {data.check_suite.app.slug: github-actions}"), EVENT
    ).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {data.labels.1: b}"), EVENT).matched
    miss = match_rule(rule("name: r\non: ci.passed\nmatch: {branch: develop}"), EVENT)
    assert miss.reason == "match: branch is 'main', not 'develop'"
    absent = match_rule(rule("name: r\non: ci.passed\nmatch: {data.nope: 1}"), EVENT)
    assert absent.reason == "match: data.nope is absent"
    assert not match_rule(rule("name: r\non: ci.passed\nmatch: {pr: '42'}"), EVENT).matched


def test_if_expression():
    assert match_rule(rule("name: r\non: ci.passed\nif: \"event.actor != 'dependabot[bot]'\""), EVENT).matched
    miss = match_rule(rule("name: r\non: ci.passed\nif: \"event.actor == 'dependabot[bot]'\""), EVENT)
    assert not miss.matched and miss.reason.startswith("if:")


def test_if_cannot_reach_python_internals():
    evil = match_rule(
        rule('name: r\non: ci.passed\nif: "event.__class__.__mro__[1].__subclasses__()"'), EVENT
    )
    assert not evil.matched
    assert "unsafe" in evil.reason or "undefined" in evil.reason


def test_rule_set_index_only_evaluates_candidates():
    rules = [rule(f"name: r{i}\non: custom.{i}") for i in range(500)]
    rules.append(rule("name: glob\non: ci.*"))
    rules.append(rule("name: exact\non: ci.passed"))
    index = RuleSet(rules)
    results = index.evaluate(EVENT)
    assert [r.rule for r in results] == ["exact", "glob"]
    assert index.listens_to("custom.7")
    assert not index.listens_to("action.succeeded")


def test_present_absent_and_not():
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {pr: {present: true}}"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {data.nope: {absent: true}}"), EVENT).matched
    miss = match_rule(rule("name: r\non: ci.passed\nmatch: {data.nope: {present: true}}"), EVENT)
    assert miss.reason == "match: data.nope is absent"
    miss = match_rule(rule("name: r\non: ci.passed\nmatch: {actor: {absent: true}}"), EVENT)
    assert miss.reason == "match: actor is present ('octocat')"
    miss = match_rule(rule("name: r\non: ci.passed\nmatch: {actor: {not: ['octo*', 'bot']}}"), EVENT)
    assert miss.reason == "match: actor is 'octocat', which it must not be"
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {actor: {not: 'dependabot[bot]'}}"), EVENT).matched
    assert match_rule(rule("name: r\non: ci.passed\nmatch: {data.labels.1: b}"), EVENT).matched


def test_globs_are_bucketed_by_first_segment():
    rules = [rule(f"name: g{i}\non: 'custom{i}.*'") for i in range(300)]
    rules += [rule("name: ci-glob\non: 'ci.*'"), rule("name: any-passed\non: '*.passed'")]
    index = RuleSet(rules)
    assert [r.name for r in index.candidates("ci.passed")] == ["ci-glob", "any-passed"]
    assert [r.name for r in index.candidates("custom7.x")] == ["g7"]
    assert index._globs.get("ci") and len(index._globs[None]) == 1
