"""Reaction rules: their schema, loading them from YAML, and matching them against events."""

from workers.rules.loader import RuleError, RuleFileError, load_rules, load_rules_text
from workers.rules.match import MatchResult, RuleSet, match_rule
from workers.rules.schema import Action, HttpRequest, McpToolCall, RetryPolicy, Rule

__all__ = [
    "Action",
    "HttpRequest",
    "MatchResult",
    "McpToolCall",
    "RetryPolicy",
    "Rule",
    "RuleError",
    "RuleFileError",
    "RuleSet",
    "load_rules",
    "load_rules_text",
    "match_rule",
]
