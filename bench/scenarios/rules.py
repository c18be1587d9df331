"""Scenario 5, rule matching: per-event cost with 10, 1,000 and 10,000 rules, most of which cannot match.

In process, no I/O: `RuleSet.evaluate` on a pull_request.opened envelope. The rules react to 100
other event types (plus one that matches), so indexing by trigger should keep the cost flat.
"""

from __future__ import annotations

import time

import orjson
from starlette.datastructures import Headers

from bench.context import Context
from bench.report import Check, Result, num, times
from bench.stack import opened_body
from router.events import utc_now
from router.providers import PROVIDERS
from workers.rules import RuleSet
from workers.rules.schema import Rule

SIZES = (10, 1_000, 10_000)
OTHER_TYPES = [f"ci.job{index}.finished" for index in range(100)]


def make_rules(count: int) -> list[Rule]:
    action = [{"http": {"url": "http://127.0.0.1:9/call", "json": {"id": "{{ event.id }}"}}}]
    rules = [
        Rule.model_validate({"name": f"other-{index}", "on": OTHER_TYPES[index % 100], "do": action})
        for index in range(count - 1)
    ]
    rules.append(
        Rule.model_validate(
            {"name": "opened", "on": "pr.opened", "match": {"data.pull_request.state": "open"}, "do": action}
        )
    )
    return rules


def per_event_us(rules: RuleSet, envelope: dict, rounds: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            results = rules.evaluate(envelope)
        best = min(best, (time.perf_counter() - start) / rounds)
    assert [r.rule for r in results if r.matched] == ["opened"]
    return best * 1e6


def run(ctx: Context) -> Result:
    rounds = 2_000 if ctx.quick else 20_000
    provider = PROVIDERS["github"]()
    headers = Headers({"x-github-event": "pull_request", "content-type": "application/json"})
    payload = orjson.loads(opened_body(ctx))
    envelope = provider.to_event(
        headers, payload, event_id="bench", received_at=utc_now(), source="github"
    ).to_dict()
    result = Result(
        "5. Rule matching cost per event",
        ["rules loaded", "candidates for pr.opened", "matching cost / event", "vs 10 rules", "index build"],
    )
    costs = {}
    for size in SIZES:
        started = time.perf_counter()
        rules = RuleSet(make_rules(size))
        built = time.perf_counter() - started
        costs[size] = per_event_us(rules, envelope, rounds)
        result.rows.append(
            [
                f"{size:,}",
                str(len(rules.candidates("pr.opened"))),
                f"{costs[size]:.2f} us",
                times(costs[size] / costs[SIZES[0]]),
                f"{built * 1000:,.0f} ms",
            ]
        )
    result.checks.append(
        Check(
            "10,000 rules cost < 2x of 10",
            times(costs[10_000] / costs[10]),
            costs[10_000] < 2 * costs[10],
        )
    )
    result.notes.append(
        f"Best of 3 x {num(rounds)} evaluations; rules validated by the same schema the loader uses "
        "(index build includes validation). Glob triggers (`on: ci.*`) are checked one by one, not indexed."
    )
    return result
