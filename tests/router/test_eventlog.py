"""Shaping the log's records: an event's status, replays, and the chain tree."""

from __future__ import annotations

from router.eventlog import EventFilter, EventRecord, chain_tree, event_status
from router.records import EVENT_LOG_KEY


def test_status_of_an_event_from_its_records():
    matched = [{"rule": "r", "matched": True}]
    assert event_status(None, {}) == "pending"
    assert event_status([], {}) == "ignored"
    assert event_status([{"rule": "r", "matched": False}], {}) == "ignored"
    assert event_status(matched, {}) == "running"
    assert event_status(matched, {}, stopped=True) == "stopped"
    assert event_status(matched, {"r/0": {"status": "succeeded"}, "r/1": {"status": "retrying"}}) == "running"
    assert event_status(matched, {"r/0": {"status": "succeeded"}, "q/0": {"status": "failed"}}) == "failed"
    assert event_status(matched, {"r/0": {"status": "succeeded"}}) == "succeeded"


def test_a_filter_reads_the_narrowest_index():
    assert EventFilter().index() == EVENT_LOG_KEY
    assert EventFilter(type="ci.*", source="github").index() == "hookchain:index:source:github"
    assert EventFilter(type="ci.passed", source="github").index() == "hookchain:index:type:ci.passed"
    assert EventFilter(type="ci.passed", subject="a/b#1").index() == "hookchain:index:subject:a/b#1"
    assert EventFilter(chain="c", subject="a/b#1").index() == "hookchain:index:chain:c"


def node(event_id: str, cause: str | None, score: float, **envelope: object) -> EventRecord:
    values = {"id": event_id, "type": "t", "source": "rule:r", "causation_id": cause, "correlation_id": "w"}
    values.update(envelope)
    return EventRecord(values, score, [], {}, False)


def test_an_orphan_whose_parent_expired_becomes_a_root_of_its_own():
    roots = chain_tree([node("b", "gone", 2.0), node("c", "b", 3.0, data={"rule": "x", "action": "0"})])
    assert [root["id"] for root in roots] == ["b"]
    assert roots[0]["children"][0]["id"] == "c"  # no action of b emitted it: it hangs from b itself
    assert roots[0]["children"][0]["offset_ms"] == 1000.0
