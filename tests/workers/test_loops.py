"""Loop detection and the per-rule rate cap, on the real Redis."""

from __future__ import annotations

import pytest
import redis

from router.events import Event
from router.queue import event_key
from workers.loops import RateCap, revisited_rules, wait_for_slot


def stored(client: redis.Redis, event_id: str, source: str, cause: str | None, subject: str = "acme/api#1"):
    event = Event(
        id=event_id, source=source, type="t", provider_type="t", time="t", subject=subject,
        correlation_id="p", causation_id=cause,
    )  # fmt: skip
    client.set(event_key(event_id), event.to_json())
    return event


def test_a_rule_already_on_the_causal_path_for_the_subject_is_a_loop(real_redis: redis.Redis):
    stored(real_redis, "p", "github", None)
    e1 = stored(real_redis, "e1", "rule:a", "p")
    e2 = stored(real_redis, "e2", "rule:b", "e1")
    sibling = stored(real_redis, "s", "rule:c", "p")
    other_subject = stored(real_redis, "o", "rule:d", "e2", subject="acme/api#2")
    assert revisited_rules(real_redis, e1, ["a", "b"], 10) == ["a"]
    assert revisited_rules(real_redis, e2, ["a", "b", "c"], 10) == ["a", "b"]
    assert revisited_rules(real_redis, sibling, ["a", "b"], 10) == []  # siblings are not loops
    assert revisited_rules(real_redis, other_subject, ["a", "b"], 10) == []
    assert revisited_rules(real_redis, e2, ["a"], 10) == revisited_rules(real_redis, e2, ["a"], 10)  # re-run


@pytest.mark.parametrize(
    ("text", "cap"),
    [("60/minute", RateCap(60, 60)), ("10/second", RateCap(10, 1)), ("5/30s", RateCap(5, 30)),
     ("1000 / hour", RateCap(1000, 3600))],
)  # fmt: skip
def test_rate_forms(text: str, cap: RateCap):
    assert RateCap.parse(text) == cap


@pytest.mark.parametrize("text", ["fast", "0/minute", "10/fortnight", "5/0s", ""])
def test_bad_rates_are_refused(text: str):
    with pytest.raises(ValueError, match="60/minute"):
        RateCap.parse(text)


def test_past_the_cap_an_action_waits_for_the_next_window(real_redis: redis.Redis):
    cap = RateCap(3, 60)
    now = 1_000_020.0  # 20 s into a window that starts at 1_000_000... rounded to the minute
    start = int(now // 60) * 60
    waits = [wait_for_slot(real_redis, "r", cap, now) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == waits[4] == start + 60 - now
    assert wait_for_slot(real_redis, "r", cap, start + 60.5) == 0.0  # next window
    assert wait_for_slot(real_redis, "other", cap, now) == 0.0  # per rule
