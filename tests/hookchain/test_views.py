"""The terminal views of a chain and of the system's state."""

from __future__ import annotations

import click

from hookchain.views import status_lines, trace_lines

ATTEMPT = {
    "number": 1,
    "status": 201,
    "duration_ms": 12.0,
    "json": {"entry": "CL-7"},
    "text": "",
    "error": None,
    "request": {"method": "POST", "url": "http://t/changelog", "headers": {}, "body": '{"pr":2}'},
}


def detail() -> dict:
    outcome = {
        "id": "out",
        "type": "changelog.recorded",
        "source": "rule:rec",
        "status": "ignored",
        "offset_ms": 40.0,
        "matches": [],
        "actions": [],
        "children": [],
    }
    root = {
        "id": "root",
        "type": "pr.merged",
        "source": "github",
        "status": "succeeded",
        "offset_ms": 0,
        "matches": [
            {"rule": "rec", "matched": True, "reason": None},
            {"rule": "deploy", "matched": False, "reason": "match: branch is 'x', not 'main'"},
        ],
        "actions": [
            {
                "rule": "rec",
                "action": "post",
                "status": "succeeded",
                "attempts": [ATTEMPT],
                "children": [outcome],
            }
        ],
        "children": [],
    }
    return {"id": "root", "subject": "a/b#2", "chain": {"correlation_id": "root", "size": 2, "roots": [root]}}


def test_the_trace_is_a_tree_from_webhook_to_the_last_call():
    lines = [click.unstyle(line) for line in trace_lines(detail())]
    assert lines[0] == "chain root: 2 event(s), subject a/b#2"
    assert lines[2].startswith("▶ pr.merged  github  succeeded  +0 ms  root")
    assert lines[3] == "├─ rules: ✓ rec, ✗ deploy (match: branch is 'x', not 'main')"
    assert lines[4].startswith(
        "└─ call rec/post  POST http://t/changelog → HTTP 201  12 ms  succeeded  (1 attempt)"
    )
    assert lines[5] == '   ├─ request: {"pr":2}'
    assert lines[6] == '   ├─ response 201: {"entry":"CL-7"}'
    assert lines[7].startswith("   └─ changelog.recorded  rule:rec  ignored  +40 ms  out")


def test_status_shows_queues_workers_and_failures():
    status = {
        "queues": {"hookchain-events": {"queued": 3, "scheduled": 0, "started": 1, "failed": 0}},
        "workers": [],
        "dead_letters": 1,
        "events": 9,
    }
    letter = {"id": "d1", "time": "t", "rule": "r", "action": "0", "error": "HTTP 503", "event_id": "e"}
    text = "\n".join(click.unstyle(line) for line in status_lines(status, [letter]))
    assert "hookchain-events     queued 3" in text
    assert "workers: 0" in text
    assert "failures (dead letters): 1" in text and "HTTP 503" in text and "id d1" in text
