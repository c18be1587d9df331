"""Rule matching cost per event for 10, 1,000 and 10,000 rules. Run alone: `python bench/rules_matching.py`.

The rules are what a large installation has: most listen to event types other than the one
arriving (exact types and `team-N.*` globs), a few listen to it. The figure is the time of
`RuleSet.evaluate` (the index lookup plus full matching of every candidate) per event.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workers.rules import RuleSet, match_rule
from workers.rules.schema import Rule

EVENT = {
    "id": "e1",
    "type": "ci.passed",
    "repo": "acme/api",
    "branch": "main",
    "actor": "octocat",
    "sha": "abc",
    "data": {"check_suite": {"app": {"slug": "github-actions"}}},
}
MATCHING = 5
"""Rules that listen to the arriving type, whatever the total: 3 exact, 2 globs."""


def make_rules(total: int) -> list[Rule]:
    action = [{"http": {"url": "https://deploy.example/{{ event.sha }}"}}]
    rules = [
        Rule.model_validate(
            {"name": "exact-0", "on": "ci.passed", "match": {"branch": "main"}, "do": action}
        ),
        Rule.model_validate(
            {"name": "exact-1", "on": ["push", "ci.passed"], "match": {"repo": "acme/*"}, "do": action}
        ),
        Rule.model_validate(
            {"name": "exact-2", "on": "ci.passed", "match": {"branch": "release/*"}, "do": action}
        ),
        Rule.model_validate({"name": "glob-0", "on": "ci.*", "do": action}),
        Rule.model_validate({"name": "glob-1", "on": "*.passed", "if": "event.actor != 'bot'", "do": action}),
    ]
    for index in range(total - MATCHING):
        trigger = f"team-{index}.*" if index % 5 == 0 else f"custom.event-{index}"
        rules.append(
            Rule.model_validate(
                {
                    "name": f"other-{index}",
                    "on": trigger,
                    "match": {"repo": f"acme/svc-{index}"},
                    "do": action,
                }
            )
        )
    return rules


def per_event_microseconds(evaluate: Callable[[], object], rounds: int = 7, events: int = 2000) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(events):
            evaluate()
        samples.append((time.perf_counter() - started) / events * 1e6)
    return statistics.median(samples)


def main() -> None:
    print(
        f"Rule matching, per event ({MATCHING} rules listen to the event's type; median of 7 x 2,000 events)"
    )
    print(
        f"{'rules':>8}  {'candidates':>10}  {'matched':>7}  {'us/event (index)':>16}  "
        f"{'us/event (no index)':>19}  {'build index ms':>14}"
    )
    for total in (10, 1_000, 10_000):
        rules = make_rules(total)
        started = time.perf_counter()
        index = RuleSet(rules)
        built = (time.perf_counter() - started) * 1000
        results = index.evaluate(EVENT)
        matched = sum(result.matched for result in results)
        cost = per_event_microseconds(lambda index=index: index.evaluate(EVENT))
        scan = per_event_microseconds(
            lambda rules=rules: [match_rule(rule, EVENT) for rule in rules], rounds=3, events=20
        )
        print(f"{total:>8,}  {len(results):>10}  {matched:>7}  {cost:>16.1f}  {scan:>19.1f}  {built:>14.1f}")


if __name__ == "__main__":
    main()
